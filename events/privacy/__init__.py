"""Privacy under UK GDPR: retention of special category data, subject access without an
account, and erasure that frees places and leaves only anonymous counts."""
