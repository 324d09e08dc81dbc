"""Connections: their state in the reader's words, and the one writer of their rows."""
