"""Synced Sage data (integrations/sync/, docs/sync.md)."""

from .environment import env

# Synced Sage data (integrations/sync, docs/sync.md). A page holds SYNC_PAGE_SIZE records
# (Sage's most); a worker process keeps up to SYNC_PAGE_CONCURRENCY Sage requests in
# flight, shared by the SYNC_RUNS_PER_WORKER runs (companies) it holds at once, and takes
# more queued runs for SYNC_WORKER_SECONDS after its task started; an incremental sync
# asks from its last cursor minus SYNC_OVERLAP_SECONDS; a worker holds a run for
# SYNC_LEASE_SECONDS past its last page (then another takes it over); a sync Sage keeps
# answering 429 goes on SYNC_RATE_LIMITED_DELAY seconds later; the sweep that queues
# scheduled syncs runs every SYNC_SWEEP_INTERVAL_MINUTES; retention deletes in batches.
SYNC_PAGE_SIZE = env.int("SYNC_PAGE_SIZE", default=200)
SYNC_PAGE_CONCURRENCY = env.int("SYNC_PAGE_CONCURRENCY", default=4)
SYNC_RUNS_PER_WORKER = env.int("SYNC_RUNS_PER_WORKER", default=8)
SYNC_WORKER_SECONDS = env.float("SYNC_WORKER_SECONDS", default=120.0)
# Up to this many pages of a type already answered are stored in one transaction (and
# told in one data.changed event: at most 800 Sage ids).
SYNC_STORE_PAGES = env.int("SYNC_STORE_PAGES", default=4)
SYNC_OVERLAP_SECONDS = env.float("SYNC_OVERLAP_SECONDS", default=300.0)
SYNC_LEASE_SECONDS = env.float("SYNC_LEASE_SECONDS", default=120.0)
SYNC_RATE_LIMITED_DELAY = env.float("SYNC_RATE_LIMITED_DELAY", default=60.0)
SYNC_SWEEP_INTERVAL_MINUTES = env.float("SYNC_SWEEP_INTERVAL_MINUTES", default=5.0)
SYNC_PURGE_BATCH = env.int("SYNC_PURGE_BATCH", default=5000)
