"""The organiser console: accounts, sessions, API tokens, permissions, attendance, audit."""
