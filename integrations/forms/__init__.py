"""Forms of the integrations app, one module per area."""
