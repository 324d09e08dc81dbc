"""A ceiling on the requests in flight to Sage, shared by every worker and machine.

Sage allows a number of concurrent requests per app (150); past it, it answers 429.
Every request to Sage's API first takes a slot of its app (the client ID) and one of
its business (the linked connection), and gives both back when Sage has answered:
at most SAGE_CONCURRENCY_PER_APP and SAGE_CONCURRENCY_PER_BUSINESS in flight, so one
busy customer cannot take every slot of the app. When either is full, nothing waits:
SageBusy is raised at once (the API answers 429 with Retry-After), so no queue grows.

The slots live in Redis (SAGE_CONCURRENCY_REDIS_URL; the default cache's Redis when
there is one), one sorted set per ceiling, taken and given back by Lua scripts so
that checking and taking are one step. Each slot expires after SAGE_HTTP_TIMEOUT
plus a margin, so a worker killed mid-request cannot hold it for ever. Without
Redis (or when Redis does not answer) the ceiling is kept per process.
"""

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator

import redis
from django.conf import settings
from django.utils.translation import gettext
from redis.commands.core import Script

from integrations.sage.errors import SageBusy

logger = logging.getLogger(__name__)

KEY_PREFIX = "sage-slots"
APP, BUSINESS = "app", "business"
LEASE_MARGIN_SECONDS = 5.0  # a slot outlives the longest request by this much

# KEYS: the app's set, the business's set. ARGV: lease ms, app limit, business limit, token.
# Returns 0 when taken, 1 when the app is full, 2 when the business is full.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do redis.call('ZREMRANGEBYSCORE', key, '-inf', now) end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 2 end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, ARGV[4])
  redis.call('PEXPIRE', key, lease)
end
return 0
"""

# Sync clients: their commands answer at once (redis-py types them as maybe awaitable).
_clients: dict[str, tuple[redis.Redis, Script]] = {}
_clients_lock = threading.Lock()


def redis_url() -> str:
    """Where the slots are kept: SAGE_CONCURRENCY_REDIS_URL, else "" (per process)."""
    return str(getattr(settings, "SAGE_CONCURRENCY_REDIS_URL", "") or "")


def _client(url: str) -> tuple[redis.Redis, Script]:
    """One client (its own connection pool, shared by the threads) and script per URL."""
    with _clients_lock:
        if url not in _clients:
            client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            _clients[url] = (client, client.register_script(_TAKE))
        return _clients[url]


class _Local:
    """The per-process fallback: counts of slots in use, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_use: dict[str, int] = {}

    def take(self, app_key: str, business_key: str, app_limit: int, business_limit: int) -> int:
        with self.lock:
            if self.in_use.get(app_key, 0) >= app_limit:
                return 1
            if self.in_use.get(business_key, 0) >= business_limit:
                return 2
            for key in (app_key, business_key):
                self.in_use[key] = self.in_use.get(key, 0) + 1
            return 0

    def give_back(self, *keys: str) -> None:
        with self.lock:
            for key in keys:
                left = self.in_use.get(key, 0) - 1
                if left > 0:
                    self.in_use[key] = left
                else:
                    self.in_use.pop(key, None)


_local = _Local()


def keys_for(*, app: str, business: str) -> tuple[str, str]:
    return f"{KEY_PREFIX}:{APP}:{app}", f"{KEY_PREFIX}:{BUSINESS}:{app}:{business}"


def _busy(outcome: int) -> SageBusy:
    if outcome == 1:
        return SageBusy(
            gettext("Too many requests to Sage are under way for this app; retry shortly."),
            scope=APP,
        )
    return SageBusy(
        gettext("Too many requests to Sage are under way for this company; retry shortly."),
        scope=BUSINESS,
    )


@contextlib.contextmanager
def sage_slot(*, app: str, business: str) -> Iterator[None]:
    """Hold a slot of the app and of the business while the block runs; SageBusy if full."""
    app_key, business_key = keys_for(app=app, business=business)
    app_limit = int(settings.SAGE_CONCURRENCY_PER_APP)
    business_limit = int(settings.SAGE_CONCURRENCY_PER_BUSINESS)
    url = redis_url()
    shared = None
    if url:
        token = uuid.uuid4().hex
        lease_ms = int((float(settings.SAGE_HTTP_TIMEOUT) + LEASE_MARGIN_SECONDS) * 1000)
        try:
            shared, take = _client(url)
            outcome = int(
                take(
                    keys=[app_key, business_key], args=[lease_ms, app_limit, business_limit, token]
                )
            )
        except redis.RedisError:
            logger.warning("Redis does not answer: the Sage ceiling is kept per process")
            shared = None
    if shared is None:
        outcome = _local.take(app_key, business_key, app_limit, business_limit)
    if outcome:
        raise _busy(outcome)
    try:
        yield
    finally:
        if shared is not None:
            try:
                with shared.pipeline(transaction=False) as pipe:
                    pipe.zrem(app_key, token)
                    pipe.zrem(business_key, token)
                    pipe.execute()
            except redis.RedisError:
                logger.warning("Redis does not answer: a Sage slot is given back when it expires")
        else:
            _local.give_back(app_key, business_key)


def in_use(*, app: str, business: str) -> tuple[int, int]:
    """Slots of the app and of the business in use now (tests, the admin)."""
    app_key, business_key = keys_for(app=app, business=business)
    url = redis_url()
    if url:
        client, _ = _client(url)
        with client.pipeline(transaction=False) as pipe:
            pipe.zcard(app_key)
            pipe.zcard(business_key)
            app_count, business_count = pipe.execute()
        return int(app_count), int(business_count)
    with _local.lock:
        return _local.in_use.get(app_key, 0), _local.in_use.get(business_key, 0)
