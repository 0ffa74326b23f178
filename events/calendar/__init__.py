"""Calendar: .ics downloads, subscription feeds, the private feed and invites."""
