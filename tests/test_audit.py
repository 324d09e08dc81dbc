"""Gaps closed by the audit of issues 2-5: walks over every URL, history, secrets in reports."""

import sys
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse
from django.views.debug import ExceptionReporter

from integrations.models import Company, Connection, HistoryEvent, Integration
from integrations.sage.signing import request_signature
from integrations.services.link_callback import link_complete
from portal.models import Membership
from portal.tenancy import SESSION_KEY

from .linking_factories import link, make_company, setup_sage

pytestmark = pytest.mark.django_db

# The business customer's pages need no login: they are guarded by the link token and
# the browser-bound state, and are tested in test_link_pages.py and test_callback.py.
PUBLIC = {"link", "link_country", "oauth_callback", "link_business", "link_done"}


def integrations_patterns() -> list[URLPattern]:
    resolver = get_resolver()
    (app,) = [p for p in resolver.url_patterns if getattr(p, "namespace", None) == "integrations"]
    return list(app.url_patterns)


def portal_urls(company: Company, integration: Integration) -> list[tuple[str, str]]:
    """Every non-public URL of the integrations app, with each object id its pattern can take."""
    urls = []
    for pattern in integrations_patterns():
        if pattern.name in PUBLIC:
            continue
        params = set(pattern.pattern.regex.groupindex)
        assert params <= {"pk"}, f"{pattern.name}: teach this walk about {params}"
        if params:
            # Either id may be the one the view reads: try both, each must be refused.
            for pk in {company.pk, integration.pk}:
                urls.append((pattern.name, reverse(f"integrations:{pattern.name}", args=[pk])))
        else:
            urls.append((pattern.name, reverse(f"integrations:{pattern.name}")))
    return urls


@pytest.fixture
def linked(org_a, sage_sandbox):
    """Organization A with Sage enabled and one linked company."""
    integration, _set = setup_sage(org_a)
    company = make_company(org_a)
    link(sage_sandbox, company)
    return company, integration


def snapshot(company: Company, integration: Integration) -> tuple:
    company.refresh_from_db()
    integration.refresh_from_db()
    connection = Connection.objects.get(company=company)
    return (
        company.link_token,
        integration.enabled,
        integration.credential_type,
        connection.status,
        Company.objects.count(),
        HistoryEvent.objects.count(),
    )


def test_the_public_pages_are_the_customers_pages_only():
    names = {p.name for p in integrations_patterns()}
    assert names >= PUBLIC
    for pattern in integrations_patterns():
        if pattern.name in PUBLIC:
            assert str(pattern.pattern).startswith(("link/", "oauth/sage/")), pattern.name


def test_member_post_is_refused_on_every_portal_url(member_client, linked, sage_sandbox):
    company, integration = linked
    before = snapshot(company, integration)
    requests_before = len(sage_sandbox.requests)
    urls = portal_urls(company, integration)
    assert len(urls) >= 10

    for name, url in urls:
        response = member_client.post(url, {"enabled": "false", "name": "Changed"})
        assert response.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND), (name, url)

    assert snapshot(company, integration) == before
    assert len(sage_sandbox.requests) == requests_before


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_organizations_admin_gets_nothing_on_every_portal_url(
    client, linked, org_b, sage_sandbox, method
):
    company, integration = linked
    setup_sage(org_b)  # B has its own integration: A's must still be out of reach
    before = snapshot(company, integration)
    requests_before = len(sage_sandbox.requests)
    client.force_login(org_b.admin)

    for name, url in portal_urls(company, integration):
        if "pk" not in get_resolver().resolve(url).kwargs:
            continue
        response = getattr(client, method)(url, {"enabled": "false"})
        assert response.status_code in (HTTPStatus.NOT_FOUND, HTTPStatus.METHOD_NOT_ALLOWED), (
            name,
            url,
        )
        assert company.name.encode() not in response.content

    assert snapshot(company, integration) == before
    assert len(sage_sandbox.requests) == requests_before


def test_renewing_the_link_url_records_who_did_it(admin_client, org_a):
    company = make_company(org_a)
    old = company.link_token

    response = admin_client.post(reverse("integrations:company_link_renew", args=[company.pk]))

    assert response.status_code == HTTPStatus.FOUND
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.LINK_RENEWED)
    assert (event.organization, event.company, event.actor) == (org_a, company, org_a.admin)
    company.refresh_from_db()
    assert old not in str(event.details) and company.link_token not in str(event.details)
    page = admin_client.get(reverse("integrations:company_detail", args=[company.pk]))
    assert "Link URL renewed" in page.content.decode()


def test_renewing_the_link_url_is_history_in_french(admin_client, org_a):
    company = make_company(org_a)
    admin_client.post(reverse("integrations:company_link_renew", args=[company.pk]))
    admin_client.cookies["django_language"] = "fr"
    page = admin_client.get(reverse("integrations:company_detail", args=[company.pk]))
    assert "URL de liaison renouvelée" in page.content.decode()


def test_a_member_can_switch_organization(client, org_a, org_b):
    Membership.objects.create(organization=org_b, user=org_a.member, role=Membership.Role.ADMIN)
    client.force_login(org_a.member)
    session = client.session
    session[SESSION_KEY] = org_a.pk  # current: A, where this user is only a member
    session.save()

    response = client.post(reverse("switch_organization"), {"organization": org_b.pk})

    assert response.status_code == HTTPStatus.FOUND
    page = client.get(reverse("integrations:company_list"))
    assert page.context["current_organization"] == org_b


def test_switching_needs_a_membership(client, org_a, org_b, make_user):
    outsider = make_user("nobody@example.com")
    client.force_login(outsider)
    response = client.post(reverse("switch_organization"), {"organization": org_a.pk})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert SESSION_KEY not in client.session
    anonymous = Client().post(reverse("switch_organization"), {"organization": org_a.pk})
    assert anonymous.status_code == HTTPStatus.FOUND
    assert "/accounts/login/" in anonymous["Location"]


def test_an_error_inside_the_v30_signer_reports_no_secret(settings):
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = "django.views.debug.SafeExceptionReporterFilter"
    try:
        request_signature(
            method="GET",
            url="https://api.example/contacts",
            params=[("page", 2)],  # not a string: the signer fails inside
            body=None,
            nonce="n" * 64,
            resource_owner_id="owner-1",
            signing_secret="SIGNING-SECRET-VALUE",
            access_token="ACCESS-TOKEN-VALUE",
        )
    except TypeError:
        report = ExceptionReporter(None, *sys.exc_info()).get_traceback_html()
    else:
        pytest.fail("the signer accepted a non-string parameter")
    assert "request_signature" in report
    assert "SIGNING-SECRET-VALUE" not in report
    assert "ACCESS-TOKEN-VALUE" not in report


def test_an_error_in_the_callback_service_reports_no_code(settings):
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = "django.views.debug.SafeExceptionReporterFilter"
    try:
        # No authorization request: the service fails after reading the code.
        link_complete(authorization=None, params={"code": "AUTHORIZATION-CODE-VALUE"})
    except AttributeError:
        report = ExceptionReporter(None, *sys.exc_info()).get_traceback_html()
    else:
        pytest.fail("link_complete accepted a missing authorization request")
    assert "link_complete" in report
    assert "AUTHORIZATION-CODE-VALUE" not in report
