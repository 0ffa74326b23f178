"""The audit log: who changed what, when; written by every room in the change's own transaction."""
