"""Webhooks (integrations/webhooks/)."""

from .environment import DEBUG, env

# Webhooks (integrations/webhooks/delivery.py, docs/webhooks.md). Endpoint URLs
# must be https and resolve to public addresses; WEBHOOKS_ALLOW_LOOPBACK_HTTP also lets
# them be http on loopback (127.0.0.1, ::1): on by default with debug (`make run`), and
# turned on by the tests that run a receiver. Never in production.
WEBHOOKS_ALLOW_LOOPBACK_HTTP = env.bool("WEBHOOKS_ALLOW_LOOPBACK_HTTP", default=DEBUG)
WEBHOOKS_TIMEOUT = env.float("WEBHOOKS_TIMEOUT", default=10.0)
# After a timeout, a connection error, 429 or 5xx: the waits (s) before each retry.
WEBHOOKS_RETRY_DELAYS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600]
WEBHOOKS_DISABLE_AFTER_DAYS = env.int("WEBHOOKS_DISABLE_AFTER_DAYS", default=5)
# How long the events feed (GET /api/v1/events) keeps an event; the daily purge drops older.
EVENTS_RETENTION_DAYS = env.int("EVENTS_RETENTION_DAYS", default=30)
# The sweep that enqueues due deliveries (lost ones, or all retries when the task
# backend cannot defer) runs this often.
WEBHOOKS_SWEEP_INTERVAL_MINUTES = env.float("WEBHOOKS_SWEEP_INTERVAL_MINUTES", default=5.0)
# A CA bundle for endpoint certificates instead of the system's (tests only).
WEBHOOKS_CA_CERTS = env.str("WEBHOOKS_CA_CERTS", default="")
