"""The REST API's redirect_url of a company: create, change, read, refuse."""

from http import HTTPStatus

import pytest

from integrations.models import Company, HistoryEvent

pytestmark = pytest.mark.django_db

COMPANIES = "/api/v1/companies"
URL = "https://app.example.com/back/{externalId}?status={status}"


def post(client, data):
    return client.post(COMPANIES, data, content_type="application/json")


def patch(client, company_id, data):
    return client.patch(f"{COMPANIES}/{company_id}", data, content_type="application/json")


def test_create_with_a_redirect_url(api_a):
    response = post(api_a, {"name": "Acme", "external_id": "c-1", "redirect_url": URL})

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert body["redirect_url"] == URL
    assert Company.objects.get(pk=body["id"]).redirect_url == URL
    assert api_a.get(f"{COMPANIES}/{body['id']}").json()["redirect_url"] == URL
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.COMPANY_CREATED)
    assert event.details["redirect_url"] == URL


def test_without_one_it_is_empty(api_a):
    assert post(api_a, {"name": "Acme"}).json()["redirect_url"] == ""


def test_patch_sets_and_clears_it(api_a):
    company_id = post(api_a, {"name": "Acme"}).json()["id"]

    response = patch(api_a, company_id, {"redirect_url": URL})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["redirect_url"] == URL
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.COMPANY_UPDATED)
    assert event.details["fields"] == ["redirect_url"]

    # Other fields leave it as it is; "" removes it.
    assert patch(api_a, company_id, {"name": "Acme Ltd"}).json()["redirect_url"] == URL
    assert patch(api_a, company_id, {"redirect_url": ""}).json()["redirect_url"] == ""
    assert Company.objects.get(pk=company_id).redirect_url == ""


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://app.example.com/back", "https://"),
        ("http://127.0.0.1:9000/back", "https://"),
        ("https://app.example.com/{token}", "Unknown placeholder {token}"),
        ("https://app.example.com/{status", "brace"),
        ("javascript:alert(1)", "absolute URL"),
        ("https://app.example.com/" + "x" * 2000, "2000"),
    ],
)
def test_a_refused_url_is_a_problem_and_nothing_changes(api_a, url, words):
    company_id = post(api_a, {"name": "Acme", "redirect_url": URL}).json()["id"]

    created = post(api_a, {"name": "Other", "redirect_url": url})
    changed = patch(api_a, company_id, {"redirect_url": url})

    for response in (created, changed):
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 400
        assert {e["field"] for e in problem["errors"]} == {"redirect_url"}
        assert any(words in e["detail"] for e in problem["errors"])
    assert Company.objects.count() == 1
    assert Company.objects.get(pk=company_id).redirect_url == URL


def test_null_is_refused(api_a):
    response = post(api_a, {"name": "Acme", "redirect_url": None})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["field"] == "redirect_url"


def test_another_organizations_company_cannot_be_changed(api_a, api_b):
    company_id = post(api_a, {"name": "Acme", "redirect_url": URL}).json()["id"]
    response = patch(api_b, company_id, {"redirect_url": "https://evil.example.com/"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert Company.objects.get(pk=company_id).redirect_url == URL


def test_the_schema_names_it(api_a, client):
    schema = client.get("/api/v1/schema/?format=json").json()
    company = schema["components"]["schemas"]["CompanyRequest"]["properties"]
    assert company["redirect_url"]["maxLength"] == 2000
    assert "{externalId}" in company["redirect_url"]["description"]
    patched = schema["components"]["schemas"]["PatchedCompanyUpdateRequest"]["properties"]
    assert "redirect_url" in patched
