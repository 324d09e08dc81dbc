"""The API's synced data: data types with counts and synced_at, records by cursor with
modified_since and include_deleted, one record by Sage's id, the syncs, Sync now.

Records are stored rows (as the engine leaves them); the order, the cursor and the
filters are read through the API. Two organizations with a key each: another
organization's company is a 404 on every data and sync endpoint, whatever the id.
"""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from integrations.models import Connection
from integrations.sync.models import SyncCursor, SyncedRecord, SyncRun
from integrations.sync.types import SYNC_TYPES

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"


def url(company, tail: str = "") -> str:
    return f"/api/v1/companies/{company.pk}{tail}"


@pytest.fixture
def linked(org_a, make_integration, make_credential_set, make_company, make_connection):
    """Return a factory: a company of `org` with a Linked connection (no Sage call needed)."""

    def make(org=org_a, name="Acme Ltd", status=Connection.Status.LINKED) -> Connection:
        integration = make_integration(org)
        credential_set = integration.credential_sets.first() or make_credential_set(integration)
        return make_connection(make_company(org, name), credential_set, status=status)

    return make


def store(connection, data_type, sage_id, *, modified_at=T0, deleted_at=None, name=None):
    return SyncedRecord.objects.create(
        connection=connection,
        data_type=data_type,
        sage_id=sage_id,
        displayed_as=name or f"Record {sage_id}",
        data={"id": sage_id, "displayed_as": name or f"Record {sage_id}"},
        sage_updated_at=modified_at - timedelta(minutes=1),
        modified_at=modified_at,
        deleted_at=deleted_at,
    )


def read_all(client, first_url):
    """Every record through `next`, page by page; and the number of pages."""
    ids, pages, next_url = [], 0, first_url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == HTTPStatus.OK, response.content
        body = response.json()
        ids += [record["id"] for record in body["results"]]
        pages += 1
        next_url = body["next"]
        assert pages < 100
    return ids, pages


def test_the_data_types_with_their_counts_and_last_good_sync(api_a, linked):
    connection = linked()
    store(connection, "contacts", "c1")
    store(connection, "contacts", "c2")
    store(connection, "contacts", "gone", deleted_at=T0)
    store(connection, "ledger_accounts", "l1")
    SyncCursor.objects.create(connection=connection, data_type="contacts", synced_at=T0)

    response = api_a.get(url(connection.company, "/data"))

    assert response.status_code == HTTPStatus.OK
    types = response.json()["types"]
    assert [t["type"] for t in types] == [t.key for t in SYNC_TYPES]
    by_type = {t["type"]: t for t in types}
    assert by_type["contacts"] == {
        "type": "contacts",
        "label": "Contacts",
        "count": 2,  # the deleted one is not counted
        "synced_at": "2026-11-01T09:00:00Z",
    }
    assert by_type["ledger_accounts"]["count"] == 1
    assert by_type["ledger_accounts"]["synced_at"] is None  # never synced in full
    assert by_type["sales_invoices"]["count"] == 0


def test_a_company_that_never_linked_has_the_types_and_nothing_in_them(api_a, org_a, make_company):
    company = make_company(org_a)
    types = api_a.get(url(company, "/data")).json()["types"]
    assert {t["count"] for t in types} == {0}
    body = api_a.get(url(company, "/data/contacts")).json()
    assert body == {"type": "contacts", "synced_at": None, "next": None, "results": []}


def test_records_come_oldest_change_first_with_what_the_platform_needs(api_a, linked):
    connection = linked()
    store(connection, "contacts", "late", modified_at=T0 + timedelta(hours=2))
    store(connection, "contacts", "early", modified_at=T0, name="Early Bird Ltd")
    store(connection, "ledger_accounts", "not-a-contact")
    SyncCursor.objects.create(
        connection=connection, data_type="contacts", synced_at=T0 + timedelta(hours=3)
    )

    body = api_a.get(url(connection.company, "/data/contacts")).json()

    assert body["type"] == "contacts"
    assert body["synced_at"] == "2026-11-01T12:00:00Z"
    assert body["next"] is None
    assert [r["id"] for r in body["results"]] == ["early", "late"]
    assert body["results"][0] == {
        "id": "early",
        "type": "contacts",
        "displayed_as": "Early Bird Ltd",
        "sage_updated_at": "2026-11-01T08:59:00Z",
        "deleted_at": None,
        "modified_at": "2026-11-01T09:00:00Z",
        "data": {"id": "early", "displayed_as": "Early Bird Ltd"},
    }


def test_the_cursor_reads_every_record_once_even_when_many_share_a_time(api_a, linked):
    """A sync stores a page of records at one moment: the cursor is over (modified_at, id)."""
    connection = linked()
    for n in range(7):
        store(connection, "contacts", f"same-{n}", modified_at=T0)
    for n in range(5):
        store(connection, "contacts", f"later-{n}", modified_at=T0 + timedelta(seconds=n))

    ids, pages = read_all(api_a, url(connection.company, "/data/contacts?limit=3"))

    assert pages == 4
    assert len(ids) == len(set(ids)) == 12
    assert ids[:7] == [f"same-{n}" for n in range(7)]  # ties in the order they were stored
    assert ids[7:] == [f"later-{n}" for n in range(5)]


def test_a_record_changed_while_paging_comes_again_and_none_is_skipped(api_a, linked):
    connection = linked()
    for n in range(6):
        store(connection, "contacts", f"c{n}", modified_at=T0 + timedelta(seconds=n))
    first = api_a.get(url(connection.company, "/data/contacts?limit=2")).json()
    assert [r["id"] for r in first["results"]] == ["c0", "c1"]
    # A sync updates c0 (seen) and c3 (not yet seen) between two pages.
    SyncedRecord.objects.filter(sage_id__in=["c0", "c3"]).update(
        modified_at=T0 + timedelta(hours=1)
    )

    rest, _ = read_all(api_a, first["next"])

    assert rest == ["c2", "c4", "c5", "c0", "c3"]


def test_the_next_url_keeps_the_filters_and_the_page_size(api_a, linked):
    connection = linked()
    for n in range(3):
        store(connection, "contacts", f"c{n}", modified_at=T0 + timedelta(seconds=n))
    store(connection, "contacts", "gone", modified_at=T0 + timedelta(seconds=5), deleted_at=T0)
    first = f"/data/contacts?limit=1&include_deleted=true&modified_since={T0:%Y-%m-%dT%H:%M:%S}Z"

    body = api_a.get(url(connection.company, first)).json()

    query = parse_qs(urlsplit(body["next"]).query)
    assert query["limit"] == ["1"]
    assert query["include_deleted"] == ["true"]
    assert "modified_since" in query
    ids, _ = read_all(api_a, body["next"])
    assert ids == ["c1", "c2", "gone"]


def test_modified_since_is_inclusive(api_a, linked):
    connection = linked()
    store(connection, "contacts", "before", modified_at=T0 - timedelta(microseconds=1))
    store(connection, "contacts", "at", modified_at=T0)
    store(connection, "contacts", "after", modified_at=T0 + timedelta(minutes=5))

    since = api_a.get(
        url(connection.company, "/data/contacts"), {"modified_since": "2026-11-01T09:00:00Z"}
    ).json()
    # Another zone, the same moment.
    paris = api_a.get(
        url(connection.company, "/data/contacts"), {"modified_since": "2026-11-01T10:00:00+01:00"}
    ).json()

    assert [r["id"] for r in since["results"]] == ["at", "after"]
    assert paris["results"] == since["results"]


def test_deleted_records_come_only_when_asked_for(api_a, linked):
    connection = linked()
    store(connection, "contacts", "kept", modified_at=T0)
    store(connection, "contacts", "gone", modified_at=T0 + timedelta(minutes=1), deleted_at=T0)

    default = api_a.get(url(connection.company, "/data/contacts")).json()
    asked = api_a.get(url(connection.company, "/data/contacts?include_deleted=true")).json()
    refused = api_a.get(url(connection.company, "/data/contacts?include_deleted=false")).json()

    assert [r["id"] for r in default["results"]] == ["kept"]
    assert refused["results"] == default["results"]
    assert [(r["id"], r["deleted_at"]) for r in asked["results"]] == [
        ("kept", None),
        ("gone", "2026-11-01T09:00:00Z"),
    ]


def test_one_record_by_sage_id_deleted_or_not(api_a, linked):
    connection = linked()
    store(connection, "contacts", "c-1", name="Harbour Ltd")
    store(connection, "contacts", "gone", deleted_at=T0)
    store(connection, "ledger_accounts", "l-1")

    found = api_a.get(url(connection.company, "/data/contacts/c-1"))
    gone = api_a.get(url(connection.company, "/data/contacts/gone"))
    other_type = api_a.get(url(connection.company, "/data/contacts/l-1"))
    missing = api_a.get(url(connection.company, "/data/contacts/nope"))

    assert found.status_code == HTTPStatus.OK
    assert found.json()["displayed_as"] == "Harbour Ltd"
    assert gone.json()["deleted_at"] == "2026-11-01T09:00:00Z"
    for response in (other_type, missing):
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response["Content-Type"] == PROBLEM
        assert response.json()["detail"] == "No record of this type has this id."


@pytest.mark.parametrize(
    "tail", ["/data/invoices", "/data/invoices/x-1", "/data/CONTACTS", "/data/contacts%00"]
)
def test_an_unknown_data_type_is_a_404_problem_naming_the_types(api_a, linked, tail):
    response = api_a.get(url(linked().company, tail))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == PROBLEM
    if "%00" not in tail:
        assert "contacts, ledger_accounts" in response.json()["detail"]
        assert response.json()["code"] == "unknown_data_type"
        assert response.json()["types"] == [t.key for t in SYNC_TYPES]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=WyJ4IiwgMV0", "cursor"),  # ["x", 1]: ours in shape, not in content
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limt=2", "limt"),  # a typo is named, not ignored
        ("limit=ten", "limit"),
        ("modified_since=yesterday", "modified_since"),
        ("modified_since=2026-11-01T09:00:00", "modified_since"),  # no time zone
        ("include_deleted=perhaps", "include_deleted"),
    ],
)
def test_bad_query_parameters_are_a_400_problem_with_the_field(api_a, linked, query, field):
    response = api_a.get(url(linked().company, f"/data/contacts?{query}"))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert response.json()["code"] == "invalid_request"


@pytest.mark.parametrize("tail", ["/data/contacts?limit=201", "/syncs?limit=201"])
def test_limit_is_refused_in_the_words_of_every_list(api_a, linked, tail):
    """The API's one pagination rule: limit 1-200, the same error as /companies."""
    company = linked().company
    mine = api_a.get(url(company, tail)).json()["errors"]
    companies = api_a.get("/api/v1/companies?limit=201").json()["errors"]
    assert mine == companies == [{"field": "limit", "detail": "Send a whole number from 1 to 200."}]


def test_a_cursor_not_ours_is_refused_in_the_words_of_every_list(api_a, linked):
    company = linked().company
    mine = api_a.get(url(company, "/data/contacts?cursor=xyz")).json()["errors"]
    companies = api_a.get("/api/v1/companies?cursor=xyz").json()["errors"]
    assert mine == companies


def test_the_syncs_newest_first_with_counts_and_errors(api_a, linked):
    connection = linked()
    old = SyncRun.objects.create(
        connection=connection,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.SUCCEEDED,
        created_at=T0,
        started_at=T0,
        finished_at=T0 + timedelta(minutes=1),
        counts={"contacts": {"created": 2, "updated": 0, "deleted": 0, "total": 2}},
        pages_done=1,
    )
    failed = SyncRun.objects.create(
        connection=connection,
        trigger=SyncRun.Trigger.MANUAL,
        status=SyncRun.Status.FAILED,
        created_at=T0 + timedelta(hours=1),
        started_at=T0 + timedelta(hours=1),
        finished_at=T0 + timedelta(hours=1, minutes=1),
        error_code="deauthorized",
        error="Sage no longer accepts this company's authorization.",
    )

    response = api_a.get(url(connection.company, "/syncs"))

    assert response.status_code == HTTPStatus.OK
    runs = response.json()["results"]
    assert [r["id"] for r in runs] == [str(failed.pk), str(old.pk)]
    assert runs[0]["status"] == "failed"
    assert runs[0]["error_code"] == "deauthorized"
    assert runs[0]["error"] == "Sage no longer accepts this company's authorization."
    assert runs[1] == {
        "id": str(old.pk),
        "trigger": "schedule",
        "status": "succeeded",
        "counts": {"contacts": {"created": 2, "updated": 0, "deleted": 0, "total": 2}},
        "pages_done": 1,
        "started_at": "2026-11-01T09:00:00Z",
        "finished_at": "2026-11-01T09:01:00Z",
        "error_code": "",
        "error": "",
    }


def test_sync_now_queues_one_sync_and_answers_it(api_a, linked):
    connection = linked()

    first = api_a.post(url(connection.company, "/syncs"))
    again = api_a.post(url(connection.company, "/syncs"))

    assert first.status_code == again.status_code == HTTPStatus.ACCEPTED
    run = SyncRun.objects.get(connection=connection)
    assert run.trigger == SyncRun.Trigger.API
    assert first.json()["id"] == again.json()["id"] == str(run.pk)  # the one already queued
    assert first.json()["status"] in {"queued", "running", "succeeded", "failed", "stopped"}


@pytest.mark.parametrize(
    "status",
    [Connection.Status.PENDING_AUTH, Connection.Status.DEAUTHORIZED, Connection.Status.UNLINKED],
)
def test_sync_now_of_a_company_not_linked_is_a_409(api_a, linked, status):
    connection = linked(status=status)
    response = api_a.post(url(connection.company, "/syncs"))
    assert response.status_code == HTTPStatus.CONFLICT
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "not_linked"
    assert not SyncRun.objects.exists()


def test_sync_now_honours_the_idempotency_key_and_says_the_rate_limit(api_a, linked):
    connection = linked()
    headers = {"HTTP_IDEMPOTENCY_KEY": "sync-now-1"}
    first = api_a.post(url(connection.company, "/syncs"), **headers)
    SyncRun.objects.all().delete()  # a second sync now would queue a new one
    again = api_a.post(url(connection.company, "/syncs"), **headers)
    assert first.status_code == again.status_code == HTTPStatus.ACCEPTED
    assert again.json() == first.json()  # the first answer, replayed
    assert not SyncRun.objects.exists()  # nothing done the second time
    assert "RateLimit-Limit" in first
    assert "RateLimit-Remaining" in first


def test_sync_now_of_a_company_that_never_linked_is_a_409(api_a, org_a, make_company):
    response = api_a.post(url(make_company(org_a), "/syncs"))
    assert response.status_code == HTTPStatus.CONFLICT
    assert not SyncRun.objects.exists()


ENDPOINTS = [
    ("get", "/data"),
    ("get", "/data/contacts"),
    ("get", "/data/contacts/c-1"),
    ("get", "/syncs"),
    ("post", "/syncs"),
]


@pytest.mark.parametrize(("method", "tail"), ENDPOINTS)
def test_another_organizations_key_gets_404_on_every_data_and_sync_endpoint(
    api_a, api_b, linked, org_b, method, tail
):
    connection = linked()
    store(connection, "contacts", "c-1")
    SyncRun.objects.create(connection=connection, trigger=SyncRun.Trigger.SCHEDULE)
    # Org B has a company of its own with the same records: its key reads only those.
    own = linked(org=org_b, name="Beta's customer")
    store(own, "contacts", "c-1")

    theirs = getattr(api_b, method)(url(connection.company, tail))
    mine = getattr(api_b, method)(url(own.company, tail))

    assert theirs.status_code == HTTPStatus.NOT_FOUND
    assert theirs["Content-Type"] == PROBLEM
    assert mine.status_code in (HTTPStatus.OK, HTTPStatus.ACCEPTED)
    assert getattr(api_a, method)(url(connection.company, tail)).status_code in (200, 202)
    assert SyncRun.objects.filter(connection=connection).count() == 1  # B queued nothing
    assert str(connection.pk) not in theirs.content.decode()


@pytest.mark.parametrize(("method", "tail"), ENDPOINTS)
def test_every_data_and_sync_endpoint_needs_a_key(api_client, linked, method, tail):
    response = getattr(api_client(None), method)(url(linked().company, tail))
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["Content-Type"] == PROBLEM


def test_the_schema_documents_the_data_and_sync_endpoints(client):
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    paths = schema["paths"]
    records = paths["/api/v1/companies/{id}/data/{type}"]["get"]
    parameters = {p["name"]: p for p in records["parameters"]}
    assert set(parameters) == {"id", "type", "cursor", "limit", "modified_since", "include_deleted"}
    assert sorted(parameters["type"]["schema"]["enum"]) == sorted(t.key for t in SYNC_TYPES)
    assert {"200", "400", "401", "404", "429"} <= set(records["responses"])
    page = schema["components"]["schemas"]["RecordPage"]["properties"]
    assert {"synced_at", "next", "results"} <= set(page)
    assert set(paths["/api/v1/companies/{id}/data"]["get"]["responses"]) >= {"200", "404"}
    assert "get" in paths["/api/v1/companies/{id}/data/{type}/{sage_id}"]
    syncs = paths["/api/v1/companies/{id}/syncs"]
    assert set(syncs["post"]["responses"]) >= {"202", "409", "404"}
    assert set(syncs["get"]["responses"]) >= {"200", "404"}


def test_the_data_endpoints_count_toward_the_keys_throttle(api_a, linked, settings):
    settings.API_THROTTLE_RATE = "3/min"
    company = linked().company
    answers = [api_a.get(url(company, tail)) for tail in ("/data", "/data/contacts", "/syncs")]
    refused = api_a.get(url(company, "/data/contacts/c-1"))
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused["Content-Type"] == PROBLEM
    assert int(refused["Retry-After"]) > 0
