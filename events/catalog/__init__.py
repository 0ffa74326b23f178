"""The catalogue: topics, series, campaigns, regions and events, and the public pages."""
