"""The REST API's companies: list, create, read, change, delete, link URL, connection, unlink.

Two organizations with a key each: whatever the id, another organization's company is a 404.
"""

from http import HTTPStatus

import pytest

from integrations.models import Company, Connection, HistoryEvent
from integrations.sage.versions import ApiVersion

pytestmark = pytest.mark.django_db

COMPANIES = "/api/v1/companies"


def company_url(company, tail: str = "") -> str:
    return f"{COMPANIES}/{company.pk}{tail}"


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def test_create_then_read(api_a, org_a):
    response = post(api_a, COMPANIES, {"name": "  Acme   Bakery ", "external_id": "cust-42"})
    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    company = Company.objects.get(pk=body["id"])
    assert company.organization == org_a
    assert body["name"] == "Acme Bakery"
    assert body["external_id"] == "cust-42"
    assert body["connection_status"] is None
    assert body["link_url"].endswith(f"/link/{company.link_token}/")
    assert body["link_expires_at"]
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.COMPANY_CREATED, company=company)
    assert event.details["name"] == "Acme Bakery"
    assert event.details["external_id"] == "cust-42"
    assert api_a.get(company_url(company)).json() == body


def test_external_id_is_optional(api_a):
    first = post(api_a, COMPANIES, {"name": "One"})
    second = post(api_a, COMPANIES, {"name": "Two", "external_id": None})
    assert first.status_code == second.status_code == HTTPStatus.CREATED
    assert first.json()["external_id"] is None


def test_a_second_external_id_is_a_conflict_naming_the_existing_company(api_a, api_b):
    existing = post(api_a, COMPANIES, {"name": "Acme", "external_id": "cust-1"}).json()
    again = post(api_a, COMPANIES, {"name": "Acme again", "external_id": "cust-1"})
    assert again.status_code == HTTPStatus.CONFLICT
    assert again["Content-Type"] == "application/problem+json"
    assert again.json()["existing_company_id"] == existing["id"]
    assert again.json()["status"] == 409
    assert Company.objects.filter(external_id="cust-1").count() == 1
    # Unique per organization: another organization may use the same external ID.
    assert post(api_b, COMPANIES, {"name": "Acme", "external_id": "cust-1"}).status_code == 201


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Bad\x00name"}, "name"),
        ({"name": "Ok", "external_id": ""}, "external_id"),
        ({"name": "Ok", "external_id": "x" * 201}, "external_id"),
        ({"name": 42, "external_id": ["a"]}, "external_id"),
    ],
)
def test_invalid_input_is_a_problem_with_field_errors(api_a, data, field):
    response = post(api_a, COMPANIES, data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400
    assert field in [error["field"] for error in body["errors"]]
    assert not Company.objects.exists()


def test_malformed_json_is_a_problem(api_a):
    response = api_a.post(COMPANIES, "{not json", content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["status"] == 400


def test_list_pages_with_a_cursor_filters_and_searches(
    api_a, org_a, make_company, make_connection, setup_sage
):
    _integration, credential_set = setup_sage(org_a)
    for i in range(5):
        make_company(org_a, f"Bakery {i}")
    linked = make_company(org_a, "Linked Garage")
    make_connection(linked, credential_set, status=Connection.Status.LINKED)
    Company.objects.filter(pk=linked.pk).update(external_id="ext-77")

    first = api_a.get(COMPANIES, {"limit": 4}).json()
    assert len(first["results"]) == 4
    assert first["results"][0]["name"] == "Linked Garage"  # newest first
    second = api_a.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert second["next"] is None
    names = {c["name"] for c in first["results"] + second["results"]}
    assert names == {"Linked Garage", *(f"Bakery {i}" for i in range(5))}

    by_status = api_a.get(COMPANIES, {"status": "Linked"}).json()["results"]
    assert [c["name"] for c in by_status] == ["Linked Garage"]
    assert by_status[0]["connection_status"] == "Linked"
    assert [c["id"] for c in api_a.get(COMPANIES, {"search": "ext-77"}).json()["results"]] == [
        linked.pk
    ]
    assert len(api_a.get(COMPANIES, {"search": "bakery"}).json()["results"]) == 5
    bad = api_a.get(COMPANIES, {"status": "Nope"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bad.json()["errors"][0]["field"] == "status"


def test_patch_changes_name_and_external_id(api_a, org_a, make_company):
    company = make_company(org_a, "Old name")
    other = make_company(org_a, "Other")
    Company.objects.filter(pk=other.pk).update(external_id="taken")
    response = patch(api_a, company_url(company), {"name": "New name", "external_id": "e-1"})
    assert response.status_code == HTTPStatus.OK
    company.refresh_from_db()
    assert (company.name, company.external_id) == ("New name", "e-1")
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.COMPANY_UPDATED)
    assert event.details["fields"] == ["external_id", "name"]
    conflict = patch(api_a, company_url(company), {"external_id": "taken"})
    assert conflict.status_code == HTTPStatus.CONFLICT
    assert conflict.json()["existing_company_id"] == other.pk
    cleared = patch(api_a, company_url(company), {"external_id": None})
    assert cleared.json()["external_id"] is None


def test_renewing_the_link_url(api_a, org_a, make_company, client):
    company = make_company(org_a)
    old_token = company.link_token
    response = post(api_a, company_url(company, "/link-url"))
    assert response.status_code == HTTPStatus.OK
    company.refresh_from_db()
    assert company.link_token != old_token
    assert response.json()["link_url"].endswith(f"/link/{company.link_token}/")
    assert response.json()["expires_at"]
    # The old link URL no longer opens the customer's pages.
    assert client.get(f"/link/{old_token}/").status_code == HTTPStatus.NOT_FOUND
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.LINK_RENEWED).count() == 1


def test_connection_and_unlink_revoke_at_sage(api_a, org_a, sage_sandbox, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    company = connection.company
    body = api_a.get(company_url(company, "/connection")).json()
    assert body["status"] == "Linked"
    assert body["api_version"] == ApiVersion.V31
    assert body["business_id"] == sage_sandbox.businesses[0]["id"]
    assert body["linked_at"]
    assert body["health"] == {
        "warning": False,
        "refresh_expires_soon": False,
        "last_refresh_failed": False,
    }
    assert "token" not in str(body).replace("refresh_token_expires_at", "")
    refresh_token = connection.refresh_token
    assert refresh_token in sage_sandbox.live_tokens()

    response = post(api_a, company_url(company, "/connection/unlink"))
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "Unlinked", "revoked": True}
    assert refresh_token not in sage_sandbox.live_tokens()
    # A second unlink (a retry that lost the first answer, say) answers like the first.
    again = post(api_a, company_url(company, "/connection/unlink"))
    assert again.status_code == HTTPStatus.OK
    assert again.json() == {"status": "Unlinked", "revoked": True}


def test_connection_of_a_company_not_yet_linking_is_a_404(api_a, org_a, make_company):
    company = make_company(org_a)
    response = api_a.get(company_url(company, "/connection"))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["status"] == 404
    assert response.json()["detail"] == "This company has not started linking yet."


def test_deleting_a_linked_company_revokes_its_tokens_first(
    api_a, org_a, sage_sandbox, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    company = connection.company
    refresh_token = connection.refresh_token
    response = api_a.delete(company_url(company))
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not Company.objects.filter(pk=company.pk).exists()
    assert not Connection.objects.filter(pk=connection.pk).exists()
    assert refresh_token not in sage_sandbox.live_tokens()
    assert [r.route for r in sage_sandbox.requests].count("revoke") == 1
    kinds = set(HistoryEvent.objects.values_list("kind", flat=True))
    assert {HistoryEvent.Kind.UNLINKED, HistoryEvent.Kind.COMPANY_DELETED} <= kinds
    # The company's events left the integration's own history.
    assert not HistoryEvent.objects.filter(
        company__isnull=True, integration__isnull=False, kind=HistoryEvent.Kind.UNLINKED
    ).exists()
    assert api_a.get(company_url(company)).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("method", "tail"),
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/link-url"),
        ("get", "/connection"),
        ("post", "/connection/unlink"),
    ],
)
def test_another_organizations_company_is_a_404(
    api_b, org_a, sage_sandbox, link_connection, method, tail
):
    connection = link_connection(sage_sandbox, org_a)
    company = connection.company
    token = company.link_token
    url = company_url(company, tail)
    if method in ("post", "patch"):
        response = getattr(api_b, method)(url, {"name": "Stolen"}, content_type="application/json")
    else:
        response = getattr(api_b, method)(url)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/problem+json"
    assert company.name not in response.content.decode()
    company.refresh_from_db()
    connection.refresh_from_db()
    assert company.name == "Acme Ltd"
    assert company.link_token == token
    assert connection.status == Connection.Status.LINKED
    assert connection.refresh_token in sage_sandbox.live_tokens()
    # Same answer as for an id that exists nowhere.
    missing = api_b.get(f"{COMPANIES}/999999{tail}" if method == "get" else f"{COMPANIES}/0")
    assert missing.status_code == HTTPStatus.NOT_FOUND


def test_lists_are_per_organization(api_a, api_b, org_a, org_b, make_company):
    make_company(org_a, "Alpha Customer")
    make_company(org_b, "Beta Customer")
    assert [c["name"] for c in api_a.get(COMPANIES).json()["results"]] == ["Alpha Customer"]
    assert [c["name"] for c in api_b.get(COMPANIES).json()["results"]] == ["Beta Customer"]


def test_unsupported_methods_are_problem_shaped(api_a, org_a, make_company):
    company = make_company(org_a)
    response = api_a.put(company_url(company), {}, content_type="application/json")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Content-Type"] == "application/problem+json"


def test_events_caused_through_the_api_name_the_key(
    org_a, make_api_key, api_client, sage_sandbox, link_connection, admin_client
):
    api_key, key = make_api_key(org_a)
    api = api_client(key)
    created = post(api, COMPANIES, {"name": "Via API"}).json()
    company = Company.objects.get(pk=created["id"])
    post(api, company_url(company, "/link-url"))
    connection = link_connection(sage_sandbox, org_a)
    post(api, company_url(connection.company, "/connection/unlink"))
    events = HistoryEvent.objects.filter(
        kind__in=[
            HistoryEvent.Kind.COMPANY_CREATED,
            HistoryEvent.Kind.LINK_RENEWED,
            HistoryEvent.Kind.UNLINKED,
        ]
    )
    assert len(events) == 3
    for event in events:
        assert event.details["api_key"] == api_key.prefix
        assert event.actor is None
    # The company page says which key did it.
    page = admin_client.get(f"/companies/{company.pk}/").content.decode()
    assert f"API key {api_key.prefix}" in page
    # Outside an API request, nothing is added.
    admin_client.post(f"/companies/{company.pk}/renew-link/", {"confirm": "on"})
    last = HistoryEvent.objects.filter(kind=HistoryEvent.Kind.LINK_RENEWED).first()
    assert "api_key" not in last.details
