"""Topic alerts: "tell me about new SEND events", by double opt-in email, one at a time or
as a daily digest, with one-click unsubscribe."""
