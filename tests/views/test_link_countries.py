"""All nine countries of the seed (issue 21 item 2): Portugal and the United Arab Emirates
link through Sage's sign-in without the `country` parameter, which Sage documents for seven."""

import pytest
import requests
from django.urls import reverse

from integrations.models import Connection
from tests.linking.link_flow import authorize_query, callback_path

pytestmark = pytest.mark.django_db

NINE = ["GB", "IE", "US", "CA", "DE", "ES", "PT", "FR", "AE"]


def country_page(client, company, language="en") -> str:
    url = reverse("integrations:link_country", args=[company.link_token, "sage"])
    return client.get(url, headers={"accept-language": language}).content.decode()


@pytest.fixture
def company(sage_sandbox, org_a, setup_sage, make_company):
    setup_sage(org_a)
    return make_company(org_a)


def test_the_country_step_offers_the_nine_countries_with_flags(client, company):
    page = country_page(client, company)
    offered = [v for v in NINE if f'name="country" value="{v}"' in page]
    assert offered == NINE
    assert page.index('value="ES"') < page.index('value="PT"') < page.index('value="FR"')
    for code in NINE:
        assert f"portal/flags/{code.lower()}.svg" in page
    assert "Portugal" in page
    assert "United Arab Emirates" in page
    french = country_page(client, company, "fr")
    assert "Portugal" in french
    assert "Émirats arabes unis" in french


@pytest.mark.parametrize("country", ["PT", "AE"])
def test_portugal_and_the_uae_go_to_sage_without_a_country_and_link(
    client, sage_sandbox, company, country
):
    query = authorize_query(client, company, country)
    assert "country" not in query  # Sage's parameter knows seven countries, not these
    response = client.get(callback_path(sage_sandbox.approve(query, country=country)))

    assert response.status_code == 302
    connection = Connection.objects.get(company=company)
    assert connection.status == Connection.Status.LINKED
    assert connection.country == country


def test_the_seven_sage_names_still_skip_its_country_picker(client, sage_sandbox, company):
    query = authorize_query(client, company, "DE")
    assert query["country"] == "de"


def test_the_sandbox_refuses_a_country_parameter_sage_does_not_document(sage_sandbox, company):
    with pytest.raises(ValueError, match="country parameter"):
        sage_sandbox.approve(
            {
                "response_type": "code",
                "client_id": "x",
                "redirect_uri": "http://127.0.0.1/cb",
                "state": "s",
                "country": "pt",
            },
            country="PT",
        )


def test_the_sandbox_sign_in_offers_portugal_and_the_uae_without_a_country(
    client, sage_sandbox, company
):
    query = authorize_query(client, company, "AE")
    url = f"{sage_sandbox.url}/oauth2/auth/central"
    page = requests.get(url, params=query, timeout=5).text
    assert '<option value="">Choose your country</option>' in page
    assert '<option value="AE">' in page
    assert '<option value="PT">' in page
