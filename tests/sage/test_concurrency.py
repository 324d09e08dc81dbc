"""The ceiling on requests in flight to Sage, per app and per business (sage/concurrency.py).

With real Redis (database 11 of the local server), shared by threads and by another
process; without Redis, per process.
"""

import subprocess
import sys
import threading
import uuid
from http import HTTPStatus

import pytest
import redis

from integrations.sage import concurrency
from integrations.sage.concurrency import in_use, sage_slot
from integrations.sage.errors import SageBusy

REDIS_URL = "redis://127.0.0.1:6379/11"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")


@pytest.fixture
def app():
    """A Sage app (client ID) of its own per test, so no test sees another's slots."""
    return f"app-{uuid.uuid4().hex}"


@pytest.fixture
def shared(settings):
    settings.SAGE_CONCURRENCY_REDIS_URL = REDIS_URL
    return redis.Redis.from_url(REDIS_URL)


def hold_in_threads(count: int, **slot) -> tuple[list[str], threading.Event, list]:
    """Try `count` slots at once from `count` threads; those taken are held until released."""
    barrier, release, taken = threading.Barrier(count + 1), threading.Event(), threading.Event()
    outcomes: list[str] = []
    lock = threading.Lock()
    threads = []

    def worker():
        barrier.wait()
        try:
            with sage_slot(**slot):
                with lock:
                    outcomes.append("taken")
                    if len(outcomes) == count:
                        taken.set()
                release.wait(10)
        except SageBusy as busy:
            with lock:
                outcomes.append(busy.scope)
                if len(outcomes) == count:
                    taken.set()

    for _ in range(count):
        thread = threading.Thread(target=worker)
        thread.start()
        threads.append(thread)
    barrier.wait()
    taken.wait(10)
    return outcomes, release, threads


@needs_redis
def test_threads_get_at_most_the_business_budget(shared, settings, app):
    settings.SAGE_CONCURRENCY_PER_BUSINESS = 3
    outcomes, release, threads = hold_in_threads(8, app=app, business="1")
    try:
        assert sorted(outcomes) == ["business"] * 5 + ["taken"] * 3
        assert in_use(app=app, business="1") == (3, 3)
        # Another business of the same app still gets its slots.
        with sage_slot(app=app, business="2"):
            assert in_use(app=app, business="2") == (4, 1)
    finally:
        release.set()
        for thread in threads:
            thread.join()
    assert in_use(app=app, business="1") == (0, 0)


@needs_redis
def test_the_app_ceiling_holds_across_businesses(shared, settings, app):
    settings.SAGE_CONCURRENCY_PER_APP = 2
    with sage_slot(app=app, business="1"), sage_slot(app=app, business="2"):
        with pytest.raises(SageBusy) as busy, sage_slot(app=app, business="3"):
            pass
        assert busy.value.scope == "app"
        assert busy.value.retry_after == 1
        # Another app is not concerned.
        with sage_slot(app=app + "-other", business="3"):
            pass
    with sage_slot(app=app, business="3"):
        pass


@needs_redis
def test_a_slot_expires_if_never_given_back(shared, settings, app):
    settings.SAGE_CONCURRENCY_PER_BUSINESS = 1
    app_key, business_key = concurrency.keys_for(app=app, business="1")
    with sage_slot(app=app, business="1"):
        lease_ms = (settings.SAGE_HTTP_TIMEOUT + concurrency.LEASE_MARGIN_SECONDS) * 1000
        for key in (app_key, business_key):
            assert 0 < shared.pttl(key) <= lease_ms  # the keys go when nobody takes a slot
    assert in_use(app=app, business="1") == (0, 0)
    # A worker killed mid-request: its slot stays, its expiry (the score) in the past.
    (now_s, now_us) = shared.time()
    past = now_s * 1000 + now_us // 1000 - 1
    shared.zadd(business_key, {"killed-worker": past})
    shared.zadd(app_key, {"killed-worker": past})
    with sage_slot(app=app, business="1"):  # swept by the next taker: the budget is free
        assert in_use(app=app, business="1") == (1, 1)
    # A slot still in its lease is not swept.
    shared.zadd(business_key, {"live-worker": past + 60_000})
    with pytest.raises(SageBusy), sage_slot(app=app, business="1"):
        pass


HOLDER = """
import sys
from django.conf import settings
settings.configure(
    SAGE_CONCURRENCY_REDIS_URL=sys.argv[1], SAGE_CONCURRENCY_PER_APP=150,
    SAGE_CONCURRENCY_PER_BUSINESS=2, SAGE_HTTP_TIMEOUT=10, USE_I18N=False,
)
from integrations.sage.concurrency import sage_slot
with sage_slot(app=sys.argv[2], business="1"), sage_slot(app=sys.argv[2], business="1"):
    print("held", flush=True)
    sys.stdin.readline()
print("given back", flush=True)
"""


@needs_redis
def test_another_process_holding_the_budget_refuses_this_one(shared, settings, app):
    settings.SAGE_CONCURRENCY_PER_BUSINESS = 2
    holder = subprocess.Popen(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", HOLDER, REDIS_URL, app],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SageBusy) as busy, sage_slot(app=app, business="1"):
            pass
        assert busy.value.scope == "business"
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "given back"
        with sage_slot(app=app, business="1"):
            assert in_use(app=app, business="1") == (1, 1)
    finally:
        holder.kill()
        holder.wait()


def test_without_redis_the_ceiling_is_per_process(settings, app):
    settings.SAGE_CONCURRENCY_REDIS_URL = ""
    settings.SAGE_CONCURRENCY_PER_BUSINESS = 2
    outcomes, release, threads = hold_in_threads(5, app=app, business="1")
    try:
        assert sorted(outcomes) == ["business"] * 3 + ["taken"] * 2
    finally:
        release.set()
        for thread in threads:
            thread.join()
    assert in_use(app=app, business="1") == (0, 0)


def test_redis_not_answering_falls_back_to_per_process(settings, app, caplog):
    settings.SAGE_CONCURRENCY_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.SAGE_CONCURRENCY_PER_BUSINESS = 1
    with (
        sage_slot(app=app, business="1"),
        pytest.raises(SageBusy),
        sage_slot(app=app, business="1"),
    ):
        pass
    assert "kept per process" in caplog.text


@needs_redis
@pytest.mark.django_db
def test_the_proxy_answers_429_when_the_business_budget_is_full(
    org_a, make_api_key, api_client, sage_sandbox, link_connection, shared, settings
):
    settings.SAGE_CONCURRENCY_PER_BUSINESS = 1
    api_a = api_client(make_api_key(org_a)[1])
    connection = link_connection(sage_sandbox, org_a)
    path = f"/api/v1/companies/{connection.company.pk}/sage/contacts"
    app = connection.credential_set.client_id
    shared.delete(*concurrency.keys_for(app=app, business=str(connection.pk)))
    calls = len(sage_sandbox.requests)
    with sage_slot(app=app, business=str(connection.pk)):  # another worker's request
        response = api_a.get(path)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "sage_busy"
    assert len(sage_sandbox.requests) == calls  # nothing reached Sage
    # Given back: the next call goes through, and gives its own slot back.
    assert api_a.get(path).status_code == HTTPStatus.OK
    assert in_use(app=app, business=str(connection.pk)) == (0, 0)
