"""Gaps closed by the audit of issues 2-5: walks over every URL, history, secrets in reports."""

import re
import sys
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import RestrictedError
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from integrations.api_keys.services import api_key_create
from integrations.configuration.forms import validate_key
from integrations.linking.callback import link_complete
from integrations.linking.services import authorization_consume
from integrations.models import Company, Connection, HistoryEvent, Integration, OrganizationAPIKey
from integrations.sage.signing import request_signature
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks.services import webhook_endpoint_create, webhook_send_test
from portal.organizations.models import Membership, Organization
from portal.organizations.tenancy import SESSION_KEY
from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db

# The business customer's pages need no login: they are guarded by the link token and
# the browser-bound state, and are tested in test_link_pages.py and test_callback.py.
# The organization's logo they show is public too, at a content-hashed URL
# (tests/views/test_branding.py).
PUBLIC = {"link", "link_country", "oauth_callback", "link_business", "link_done", "brand_logo"}
# So are an invitee's, guarded by the invitation's link (tests/views/test_team.py).
INVITEE = {"invitation_open", "invitation_accept"}


def _flatten(patterns, prefix: str = "") -> list[tuple[str, URLPattern]]:
    """Each URL pattern under `patterns`, with its whole route, through nested includes."""
    flat = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLPattern):
            flat.append((route, pattern))
        else:
            flat.extend(_flatten(pattern.url_patterns, route))
    return flat


def integrations_routes() -> list[tuple[str, URLPattern]]:
    resolver = get_resolver()
    (app,) = [p for p in resolver.url_patterns if getattr(p, "namespace", None) == "integrations"]
    return _flatten(app.url_patterns)


def integrations_patterns() -> list[URLPattern]:
    return [pattern for _route, pattern in integrations_routes()]


def portal_urls(company: Company, integration: Integration) -> list[tuple[str, str]]:
    """Every non-public URL of the integrations app, with each object id its pattern can take."""
    organization = company.organization
    api_key = OrganizationAPIKey.objects.filter(organization=organization).first()
    if api_key is None:
        api_key, _key = api_key_create(organization=organization, name="Walk", actor=None)
    endpoint = WebhookEndpoint.objects.filter(organization=organization).first()
    if endpoint is None:
        endpoint, _secret = webhook_endpoint_create(
            organization=organization,
            url="https://hooks.example.com/in",
            events=["company.created"],
            enabled=True,
            actor=None,
        )
    delivery = endpoint.deliveries.first() or webhook_send_test(endpoint=endpoint)
    urls = []
    for route, pattern in integrations_routes():
        if pattern.name in PUBLIC | INVITEE:
            continue
        params = set(re.findall(r"<(?:\w+:)?(\w+)>", route))
        assert params <= {"pk", "prefix", "delivery_pk"}, f"{pattern.name}: teach {params}"
        if "<uuid:pk>" in route:  # a webhook endpoint (and one of its deliveries)
            args = [endpoint.pk, delivery.pk] if "delivery_pk" in params else [endpoint.pk]
            urls.append((pattern.name, reverse(f"integrations:{pattern.name}", args=args)))
        elif params == {"prefix"}:  # an API key, named by its prefix
            urls.append(
                (pattern.name, reverse(f"integrations:{pattern.name}", args=[api_key.prefix]))
            )
        elif params:
            # Either id may be the one the view reads: try both, each must be refused.
            for pk in {company.pk, integration.pk}:
                urls.append((pattern.name, reverse(f"integrations:{pattern.name}", args=[pk])))
        else:
            urls.append((pattern.name, reverse(f"integrations:{pattern.name}")))
    return urls


@pytest.fixture
def linked(org_a, sage_sandbox, link, make_company, setup_sage):
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
        integration.new_links_api_version,
        connection.status,
        Company.objects.count(),
        HistoryEvent.objects.count(),
        OrganizationAPIKey.objects.filter(revoked=True).count(),
        list(WebhookEndpoint.objects.values_list("url", "events", "enabled", "signing_secret")),
        list(WebhookDelivery.objects.values_list("state", "attempts", "next_attempt_at")),
    )


def test_the_public_pages_are_the_customers_pages_only():
    names = {p.name for p in integrations_patterns()}
    assert names >= PUBLIC | INVITEE
    for route, pattern in integrations_routes():
        if pattern.name in PUBLIC:
            assert route.startswith(("link/", "oauth/sage/", "brand/")), pattern.name
        if pattern.name in INVITEE:
            assert route.startswith("invitations/"), pattern.name


def test_member_post_is_refused_on_every_portal_url(member_client, linked, sage_sandbox):
    company, integration = linked
    urls = portal_urls(company, integration)  # before the snapshot: it may create A's key
    before = snapshot(company, integration)
    requests_before = len(sage_sandbox.requests)
    assert len(urls) >= 10

    for name, url in urls:
        response = member_client.post(url, {"enabled": "false", "name": "Changed"})
        assert response.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND), (name, url)

    assert snapshot(company, integration) == before
    assert len(sage_sandbox.requests) == requests_before


# The pages that only admins may even read (`admin_required`): members are refused on GET too.
ADMIN_ONLY = {
    "integration_enable",
    "credentials_check",
    "integration_toggle",
    "company_create",
    "company_link_renew",
    "connection_unlink",
    "webhook_create",
    "webhook_rotate",
    "webhook_delete",
    "webhook_test",
    "webhook_resend",
}


def test_member_get_is_refused_on_every_admin_only_url(member_client, linked):
    company, integration = linked
    urls = [(name, url) for name, url in portal_urls(company, integration) if name in ADMIN_ONLY]
    assert {name for name, _url in urls} == ADMIN_ONLY

    for name, url in urls:
        response = member_client.get(url)
        assert response.status_code in (
            HTTPStatus.FORBIDDEN,
            HTTPStatus.NOT_FOUND,  # the other object's id
            HTTPStatus.METHOD_NOT_ALLOWED,  # POST-only, refused before the role is asked
        ), (name, url, response.status_code)
        assert company.link_token not in response.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_organizations_admin_gets_nothing_on_every_portal_url(
    client, linked, org_b, sage_sandbox, method, setup_sage
):
    company, integration = linked
    own_integration, _set = setup_sage(org_b)  # B has its own: A's must still be out of reach
    # An id that is also one of B's own objects (ids of different tables may coincide on
    # PostgreSQL) would reach B's object, rightly: only A's are walked.
    own = {
        own_integration.pk,
        *Company.objects.filter(organization=org_b).values_list("pk", flat=True),
    }
    urls = portal_urls(company, integration)  # before the snapshot: it may create A's key
    before = snapshot(company, integration)
    requests_before = len(sage_sandbox.requests)
    client.force_login(org_b.admin)

    for name, url in urls:
        kwargs = get_resolver().resolve(url).kwargs
        if not {"pk", "prefix"} & set(kwargs) or kwargs.get("pk") in own:
            continue
        response = getattr(client, method)(url, {"enabled": "false"})
        assert response.status_code in (HTTPStatus.NOT_FOUND, HTTPStatus.METHOD_NOT_ALLOWED), (
            name,
            url,
        )
        assert company.name.encode() not in response.content

    assert snapshot(company, integration) == before
    assert len(sage_sandbox.requests) == requests_before


def test_renewing_the_link_url_records_who_did_it(admin_client, org_a, make_company):
    company = make_company(org_a)
    old = company.link_token

    url = reverse("integrations:company_link_renew", args=[company.pk])
    response = admin_client.post(url, {"confirm": "on"})

    assert response.status_code == HTTPStatus.FOUND
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.LINK_RENEWED)
    assert (event.organization, event.company, event.actor) == (org_a, company, org_a.admin)
    company.refresh_from_db()
    assert old not in str(event.details)
    assert company.link_token not in str(event.details)
    page = admin_client.get(reverse("integrations:company_detail", args=[company.pk]))
    assert "Link URL renewed" in page.content.decode()


def test_renewing_the_link_url_is_history_in_french(admin_client, org_a, make_company):
    company = make_company(org_a)
    renew = reverse("integrations:company_link_renew", args=[company.pk])
    admin_client.post(renew, {"confirm": "on"})
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


def frame_variables(exc_info, function: str) -> str:
    """The local variables an error report shows for `function`'s frame."""
    reporter = ExceptionReporter(None, *exc_info)
    # Django's own filter, so that the decorators (not the portal's redaction) are tested;
    # set here, not in settings: Django caches the default filter for the process.
    reporter.filter = SafeExceptionReporterFilter()
    frames = reporter.get_traceback_frames()
    (frame,) = [f for f in frames if f["function"] == function]
    return str(frame["vars"])


def error_report(call, exception, function: str, *, if_accepted: str) -> str:
    """Run `call()`, which must raise `exception` inside `function`; return the local
    variables an error report shows for that frame (fail with `if_accepted` if none was raised)."""
    try:
        call()
    except exception:
        return frame_variables(sys.exc_info(), function)
    pytest.fail(if_accepted)


def test_an_error_inside_the_v30_signer_reports_no_secret():
    report = error_report(
        lambda: request_signature(
            method="GET",
            url="https://api.example/contacts",
            params=[("page", 2)],  # not a string: the signer fails inside
            body=None,
            nonce="n" * 64,
            resource_owner_id="owner-1",
            signing_secret="SIGNING-SECRET-VALUE",
            access_token="ACCESS-TOKEN-VALUE",
        ),
        TypeError,
        "request_signature",
        if_accepted="the signer accepted a non-string parameter",
    )
    assert "SIGNING-SECRET-VALUE" not in report
    assert "ACCESS-TOKEN-VALUE" not in report


def test_an_error_in_the_callback_service_reports_no_code():
    # No authorization request: the service fails after reading the code.
    report = error_report(
        lambda: link_complete(authorization=None, params={"code": "AUTHORIZATION-CODE-VALUE"}),
        AttributeError,
        "link_complete",
        if_accepted="link_complete accepted a missing authorization request",
    )
    assert "AUTHORIZATION-CODE-VALUE" not in report


def test_an_error_in_the_state_check_reports_no_browser_secret():
    # A state that is not a string: the check fails inside, the browser secret in scope.
    report = error_report(
        lambda: authorization_consume(state=12345, browser_secret="BROWSER-SECRET-VALUE"),
        TypeError,
        "authorization_consume",
        if_accepted="authorization_consume accepted a state that is not a string",
    )
    assert "BROWSER-SECRET-VALUE" not in report


def test_an_error_inside_the_key_validation_reports_no_key():
    # Bytes, not text: the check fails inside, with the pasted key in scope.
    report = error_report(
        lambda: validate_key(b"PASTED-KEY-VALUE", "Client secret"),
        AttributeError,
        "validate_key",
        if_accepted="validate_key accepted bytes",
    )
    assert "PASTED-KEY-VALUE" not in report


def test_password_reset_by_email(client, org_a, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": org_a.member.email})
    assert response.status_code == HTTPStatus.FOUND
    (message,) = mailoutbox
    (url,) = re.findall(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body)

    form_page = client.get(url, follow=True)
    new_password = "a-brand-new-password-77"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else url,
        {"password1": new_password, "password2": new_password},
    )

    assert done.status_code == HTTPStatus.FOUND
    org_a.member.refresh_from_db()
    assert org_a.member.check_password(new_password)
    assert Client().login(username=org_a.member.username, password=new_password)


def test_an_organization_with_linked_companies_can_be_deleted(linked, org_a, org_b, setup_sage):
    setup_sage(org_b)
    Organization.objects.get(pk=org_a.pk).delete()
    assert not Connection.objects.exists()
    assert not Company.objects.exists()
    assert list(Integration.objects.all()) == [Integration.objects.get(organization=org_b)]


def test_a_credential_set_in_use_cannot_be_deleted_alone(linked):
    company, integration = linked
    with pytest.raises(RestrictedError), transaction.atomic():
        company.connection.credential_set.delete()
    with pytest.raises(RestrictedError), transaction.atomic():
        Integration.objects.get(pk=integration.pk).delete()
    assert Connection.objects.get(company=company).status == Connection.Status.LINKED


def test_create_organization_prompts_for_the_password_twice(monkeypatch, capsys):
    answers = iter(["first-try-password-1", "different-password-2", PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))

    call_command("create_organization", "Gamma Ltd", admin_email="Boss@Gamma.example")

    assert "passwords didn't match" in capsys.readouterr().err
    membership = Membership.objects.get(organization__name="Gamma Ltd")
    assert membership.role == Membership.Role.ADMIN
    assert membership.user.email == "boss@gamma.example"
    assert membership.user.check_password(PASSWORD)


def test_create_organization_for_an_existing_user_adds_a_membership(org_a):
    users = get_user_model().objects.count()
    call_command(
        "create_organization", "Delta Ltd", admin_email=org_a.member.email, interactive=False
    )
    assert get_user_model().objects.count() == users
    assert Membership.objects.get(organization__name="Delta Ltd").user == org_a.member
