"""Outgoing messages: the outbox other rooms write to, and (later) the worker that sends."""
