"""The customer's link pages say who asks: name, logo, steps, what is shared, privacy page."""

import re
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection
from integrations.sage.versions import ApiVersion
from portal.organizations.models import Organization
from tests.linking.link_flow import authorize_query, callback_path
from tests.views.test_branding import png_with_metadata, upload

pytestmark = pytest.mark.django_db


def link_url(company):
    return reverse("integrations:link", args=[company.link_token])


def country_url(company):
    return reverse("integrations:link_country", args=[company.link_token, "sage"])


@pytest.fixture
def branded(client, org_a):
    """Org A with a display name, a logo and a privacy page, set through its settings page."""
    client.force_login(org_a.admin)
    upload(
        client,
        png_with_metadata(),
        "logo.png",
        display_name="Alpha Pay",
        privacy_url="https://alpha.example/privacy",
    )
    client.logout()
    org_a.refresh_from_db()
    return org_a


@pytest.fixture
def company(branded, sage_sandbox, make_company, setup_sage):
    """A company of the branded organization, its Sage integration set up."""
    setup_sage(branded)
    return make_company(branded)


def logo_url(org: Organization) -> str:
    return reverse("integrations:brand_logo", args=[org.pk, org.logo_version])


def current_step(page: str) -> str:
    step = r'aria-current="step">.*?</span>(?:<span[^>]*>[^<]*</span>)?([^<]+)</li>'
    match = re.search(step, page)
    assert match, "no current step"
    return match.group(1).strip()


def test_the_first_page_says_who_asks_and_what_is_shared(client, branded, company):
    page = client.get(link_url(company)).content.decode()

    assert "<h1>Alpha Pay would like to connect to your Sage Accounting</h1>" in page
    assert f'src="{logo_url(branded)}"' in page
    assert current_step(page) == "Software"
    assert 'data-testid="shared"' in page
    assert "used only to read your data" in page
    assert 'href="https://alpha.example/privacy"' in page
    assert 'rel="noopener noreferrer"' in page
    assert "Alpha Ltd" not in page  # the display name, not the organization's own name
    assert 'data-testid="already-linked"' not in page


def test_the_country_page_is_step_two_with_flags_that_are_images(client, company):
    page = client.get(country_url(company)).content.decode()

    assert "Alpha Pay would like to connect to your Sage Accounting" in page
    assert current_step(page) == "Country"
    assert 'class="stepper__step stepper__step--done"' in page
    for code in ("gb", "ie", "us", "ca", "de", "es", "fr"):
        assert f'src="/static/portal/flags/{code}.svg"' in page
    assert "🇬🇧" not in page
    assert "Your country is not listed?" in page
    assert "contact Alpha Pay, who sent you this link" in page
    assert "United Kingdom or Ireland" not in page  # v3.1 offers more than those


def test_v30_says_only_the_uk_and_ireland_can_be_linked(
    client, org_a, sage_sandbox, make_company, setup_sage
):
    setup_sage(org_a, version=ApiVersion.V30)
    page = client.get(country_url(make_company(org_a))).content.decode()
    assert "Only businesses based in the United Kingdom or Ireland can be linked" in page


def test_without_branding_the_pages_use_the_organization_name_and_no_logo(
    client, org_a, sage_sandbox, make_company, setup_sage
):
    setup_sage(org_a)
    page = client.get(link_url(make_company(org_a))).content.decode()
    assert "Alpha Ltd would like to connect to your Sage Accounting" in page
    assert 'data-testid="brand-logo"' not in page
    assert 'data-testid="privacy-link"' not in page


def test_another_organizations_page_never_shows_its_brand(
    client, branded, org_b, sage_sandbox, make_company, setup_sage
):
    setup_sage(org_b)
    page = client.get(link_url(make_company(org_b, "Bravo Shop"))).content.decode()
    assert "Beta Ltd would like to connect" in page
    assert "Alpha" not in page
    assert "/brand/" not in page
    assert "alpha.example" not in page


def test_the_first_page_says_already_linked(
    client, branded, sage_sandbox, make_company, setup_sage, make_connection
):
    _integration, credential_set = setup_sage(branded)
    company = make_company(branded)
    make_connection(company, credential_set)

    response = client.get(link_url(company))

    page = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert 'data-testid="already-linked"' in page
    assert "Acme Bakery is already linked to Sage Accounting" in page
    assert "ask Alpha Pay to unlink this one first" in page
    assert country_url(company) not in page  # nothing to start
    assert 'data-testid="stepper"' not in page


@pytest.mark.parametrize("status", [Connection.Status.DEAUTHORIZED, Connection.Status.UNLINKED])
def test_a_company_linked_before_is_offered_to_link_again(
    client, org_a, sage_sandbox, make_company, setup_sage, make_connection, status
):
    _integration, credential_set = setup_sage(org_a)
    company = make_company(org_a)
    make_connection(company, credential_set, status=status)

    page = client.get(link_url(company)).content.decode()

    assert 'data-testid="relinking"' in page
    assert country_url(company) in page


def test_an_expired_link_still_says_who_sent_it(client, company):
    company.link_expires_at = timezone.now()
    company.save()

    response = client.get(link_url(company))

    assert response.status_code == HTTPStatus.GONE
    assert 'alt="Alpha Pay" data-testid="brand-logo"' in response.content.decode()


def test_the_pages_back_from_sage_carry_the_brand(client, branded, company, sage_sandbox):
    businesses = sage_sandbox.set_businesses(2)
    query = authorize_query(client, company)
    client.get(callback_path(sage_sandbox.approve(query, country="GB")))

    choose = client.get(reverse("integrations:link_business")).content.decode()
    assert "Alpha Pay would like to connect to your Sage Accounting" in choose
    assert current_step(choose) == "Authorize at Sage"
    assert f'src="{logo_url(branded)}"' in choose

    client.post(reverse("integrations:link_business"), {"business": businesses[0]["id"]})
    done = client.get(reverse("integrations:link_done")).content.decode()
    assert 'alt="Alpha Pay" data-testid="brand-logo"' in done
    assert f'src="{logo_url(branded)}"' in done


def test_the_link_pages_speak_french(client, company):
    client.cookies["django_language"] = "fr"
    page = client.get(country_url(company)).content.decode()
    assert "Alpha Pay souhaite se connecter à votre Sage Accounting" in page
    assert "Votre pays ne figure pas dans la liste" in page
    assert "Ce qui sera partagé" in page


# The platform's brand owns the customer's pages (issue 21 item 5).


def test_the_link_pages_carry_no_portal_bar_and_the_platforms_name_once(client, company):
    page = client.get(link_url(company)).content.decode()
    assert 'class="topbar"' not in page
    assert 'id="sidenav"' not in page
    assert "<title>Link your accounting software · Alpha Pay</title>" in page
    assert 'data-testid="brand-name"' not in page  # the logo says it (its alt text)
    assert 'alt="Alpha Pay" data-testid="brand-logo"' in page
    assert 'data-testid="link-footer"' in page
    assert 'id="language-select"' in page  # the language switch, in the footer


def test_what_is_shared_is_in_full_on_the_first_step_and_folded_after(client, company):
    first = client.get(link_url(company)).content.decode()
    assert '<section class="card shared"' in first
    second = client.get(country_url(company)).content.decode()
    assert '<details class="card shared shared--folded" data-testid="shared">' in second


def test_success_ends_with_return_to_the_platform(client, branded, company, sage_sandbox):
    branded.website_url = "https://alpha.example/"
    branded.save()
    client.get(callback_path(sage_sandbox.approve(authorize_query(client, company))))
    done = client.get(reverse("integrations:link_done")).content.decode()
    assert 'href="https://alpha.example/" rel="noopener noreferrer" data-testid="return-to"' in done
    assert "Return to Alpha Pay" in done
    assert "You can close this window." not in done


def test_an_expired_link_names_the_platform_and_how_to_reach_it(client, branded, company):
    branded.website_url = "https://alpha.example/"
    branded.save()
    company.link_expires_at = timezone.now()
    company.save()
    page = client.get(link_url(company)).content.decode()
    assert "This link was sent to you by Alpha Pay: contact them for a new one." in page
    assert 'data-testid="return-to">Return to Alpha Pay</a>' in page
    french = client.get(link_url(company), headers={"accept-language": "fr"}).content.decode()
    assert "Revenir à Alpha Pay" in french


def test_an_unknown_link_names_no_platform(client, company):
    page = client.get(reverse("integrations:link", args=["x" * 43])).content.decode()
    assert "Alpha Pay" not in page
    assert "<title>This link cannot be used · Sage Accounting</title>" in page


def test_the_branding_page_saves_the_website(client, org_a):
    client.force_login(org_a.admin)
    response = client.post(
        reverse("integrations:branding"),
        {"display_name": "", "privacy_url": "", "website_url": "https://alpha.example/"},
    )
    assert response.status_code == 302
    org_a.refresh_from_db()
    assert org_a.website_url == "https://alpha.example/"
    refused = client.post(
        reverse("integrations:branding"),
        {"display_name": "", "privacy_url": "", "website_url": "http://alpha.example/"},
    )
    assert refused.status_code == 400
    assert "The website must be an https:// address." in refused.content.decode()
