"""What the schemathesis fuzz (test_fuzz.py) found, kept as plain tests."""

from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/api/v1/companies/1.5/sage/x%0Ay", "/api/v1/x%0A", "/api/v1/companies/1/sage/a%0A"],
)
def test_a_path_with_a_newline_is_a_problem_not_an_html_page(api_a, path):
    response = api_a.get(path)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/problem+json"


def test_the_schema_documents_sages_own_answers_through_the_proxy(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    responses = schema["paths"]["/api/v1/companies/{id}/sage/{path}"]["get"]["responses"]
    # Ours and Sage's (a 404 for an unknown record, say) are problems: Sage's inside `sage`.
    assert set(responses["404"]["content"]) == {"application/problem+json"}
    assert set(responses["401"]["content"]) == {"application/problem+json"}
    listing = schema["paths"]["/api/v1/companies"]["get"]
    assert set(listing["responses"]["401"]["content"]) == {"application/problem+json"}
    assert listing["operationId"] == "companies_list"


def test_a_sage_404_through_the_proxy_is_a_problem_with_sages_answer(
    api_a, org_a, setup_sage, make_company, link, sage_sandbox
):
    setup_sage(org_a)
    company = make_company(org_a)
    link(sage_sandbox, company)
    response = api_a.get(f"/api/v1/companies/{company.pk}/sage/ledger_accounts/no-such-id")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["sage"]["errors"][0]["$dataCode"] == "RecordNotFound"
