"""The sandbox's lists as Sage's OpenAPI describes them, over real HTTP on loopback:
`updated_or_created_since` (inclusive), `deleted_since` (exclusive), pages, 429."""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
import requests

from integrations.sage.sandbox.records import KINDS, sage_time
from tests.sage.test_sandbox import assert_error_array, exchange

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(sage_sandbox) -> str:
    return exchange(sage_sandbox).json()["access_token"]


def listing(sandbox, token, kind="contacts", **params):
    response = requests.get(
        f"{sandbox.url}/v3.1/{kind}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code == HTTPStatus.OK, response.text
    return response.json()


def ids(body) -> list[str]:
    return [item["id"] for item in body["$items"]]


@pytest.mark.parametrize("kind", KINDS)
def test_every_synced_type_is_listed_in_sages_envelope(sage_sandbox, token, kind):
    body = listing(sage_sandbox, token, kind, items_per_page=2)

    assert set(body) == {"$total", "$page", "$next", "$back", "$itemsPerPage", "$items"}
    assert body["$total"] >= 5
    assert len(body["$items"]) == 2
    assert body["$next"].startswith(f"/{kind}?page=2")
    first = body["$items"][0]
    assert {"id", "displayed_as", "$path", "created_at", "updated_at"} <= set(first)


def test_updated_or_created_since_is_inclusive(sage_sandbox, token):
    sage_sandbox.clock = lambda: datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    contact = sage_sandbox.items(sage_sandbox.businesses[0], "contacts")[3]
    changed = sage_sandbox.update_record("contacts", contact["id"], email="x@example.com")
    created = sage_sandbox.create_record("contacts", displayed_as="Newcomer")

    assert changed["updated_at"] == "2026-05-01T12:00:00Z"
    at = listing(sage_sandbox, token, updated_or_created_since="2026-05-01T12:00:00Z")
    assert ids(at) == [contact["id"], created["id"]]
    after = listing(sage_sandbox, token, updated_or_created_since="2026-05-01T12:00:01+00:00")
    assert after["$total"] == 0
    everything = listing(sage_sandbox, token, updated_or_created_since="2020-01-01")
    assert everything["$total"] == 26


def test_deleted_since_is_exclusive_and_answers_only_deleted_records(sage_sandbox, token):
    sage_sandbox.clock = lambda: datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    contact = sage_sandbox.items(sage_sandbox.businesses[0], "contacts")[0]
    sage_sandbox.delete_record("contacts", contact["id"])

    before = listing(sage_sandbox, token, deleted_since="2026-05-01T11:59:59Z")
    assert before["$items"] == [
        {
            "id": contact["id"],
            "displayed_as": contact["displayed_as"],
            "$path": contact["$path"],
            "deleted_at": "2026-05-01T12:00:00Z",
        }
    ]
    assert listing(sage_sandbox, token, deleted_since="2026-05-01T12:00:00Z")["$total"] == 0
    live = listing(sage_sandbox, token, items_per_page=200)
    assert contact["id"] not in ids(live)
    assert live["$total"] == 24


def test_a_since_that_is_not_a_date_is_a_400(sage_sandbox, token):
    response = requests.get(
        f"{sage_sandbox.url}/v3.1/contacts",
        params={"updated_or_created_since": "yesterday"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert_error_array(response, HTTPStatus.BAD_REQUEST, "InvalidParameter")


def test_seeded_records_are_made_on_demand_and_paged_200_at_most(sage_sandbox, token):
    sage_sandbox.seed("contacts", 2000)

    body = listing(sage_sandbox, token, items_per_page=500, page=10)

    assert body["$total"] == 2000
    assert body["$itemsPerPage"] == 200
    assert len(body["$items"]) == 200
    assert body["$next"] is None
    assert body["$items"][-1]["reference"] == "CUS2000"
    recent = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert listing(sage_sandbox, token, updated_or_created_since=recent)["$total"] == 0


def test_a_429_says_when_to_come_back_and_a_fault_can_aim_at_one_page(sage_sandbox, token):
    sage_sandbox.fail_page("contacts", 2, "status_429", retry_after=7)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{sage_sandbox.url}/v3.1/contacts"

    assert requests.get(url, params={"page": 1}, headers=headers, timeout=5).status_code == 200
    limited = requests.get(url, params={"page": 2}, headers=headers, timeout=5)

    assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert limited.headers["Retry-After"] == "7"
    assert requests.get(url, params={"page": 2}, headers=headers, timeout=5).status_code == 200
    assert sage_sandbox.stats()["api_requests"] == 3


def test_materialized_records_answer_exactly_as_made_on_demand(sage_sandbox, token):
    """--materialize (the benchmark's sandbox) makes every record at start: same answers."""
    sage_sandbox.seed("contacts", 450)
    fourth = sage_sandbox.items(sage_sandbox.businesses[0], "contacts")[3]
    sage_sandbox.update_record("contacts", fourth["id"], name="X")
    before = [listing(sage_sandbox, token, page=n) for n in (1, 2, 3)]

    made = sage_sandbox.materialize()

    assert made >= 450
    assert [listing(sage_sandbox, token, page=n) for n in (1, 2, 3)] == before
    assert before[0]["$items"][3]["name"] == "X"


def test_sage_time_is_utc_to_the_second():
    assert sage_time(datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=UTC).timestamp()) == (
        "2026-01-02T03:04:05Z"
    )
