"""Synced Sage data (issue 19): the data types, their copy per connection, and the engine."""
