"""Post/Redirect/Get after a refused create: 303 to the form's page, whose next GET shows
the errors under their fields and the values typed, once; secrets are never kept."""

import re
from dataclasses import dataclass, field
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import Company, CredentialSet, Integration, OrganizationAPIKey
from integrations.webhooks.models import WebhookEndpoint
from portal.organizations.models import Invitation, Membership

pytestmark = pytest.mark.django_db

SETTINGS_URL = reverse("integrations:integration_settings")
TYPED_SECRET = "typed-secret-never-kept-0123"


@pytest.fixture(autouse=True)
def loopback(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True


@dataclass
class Case:
    """A form: where it posts, the page it lives on, a refused input and what the page says."""

    post_to: str
    page: str
    data: dict
    input_id: str  # the input the error is under
    error: str
    typed: str  # a value typed that the page shows again
    created: object = None  # what would have been created: a callable returning a count
    extra: dict = field(default_factory=dict)


def cases(org) -> dict[str, Case]:
    return {
        "company": Case(
            post_to=reverse("integrations:company_create"),
            page=reverse("integrations:company_create"),
            data={"name": "x" * 201},
            input_id="id_name",
            error="Ensure this value has at most 200 characters (it has 201).",
            typed="",  # too long to be shown again (BoundedTextInput)
            created=Company.objects.count,
        ),
        "company blank": Case(
            post_to=reverse("integrations:company_create"),
            page=reverse("integrations:company_create"),
            data={"name": "   "},
            input_id="id_name",
            error="This field is required.",
            typed="",
            created=Company.objects.count,
        ),
        "api key": Case(
            post_to=reverse("integrations:api_key_create"),
            page=reverse("integrations:api_key_list"),
            data={"name": "Backend\x07 key"},
            input_id="id_name",
            error="Use only printable characters in the name.",
            typed='value="Backend',
            created=OrganizationAPIKey.objects.count,
        ),
        "webhook endpoint": Case(
            post_to=reverse("integrations:webhook_create"),
            page=reverse("integrations:webhook_create"),
            data={"url": "ftp://hooks.example/in", "events": ["company.created"]},
            input_id="id_url",
            error="Use an https:// URL.",
            typed='value="ftp://hooks.example/in"',
            created=WebhookEndpoint.objects.count,
        ),
        "webhook endpoint without events": Case(
            post_to=reverse("integrations:webhook_create"),
            page=reverse("integrations:webhook_create"),
            data={"url": "http://127.0.0.1:9/typed-hook", "events": []},
            input_id="id_events",
            error="Choose at least one event.",
            typed='value="http://127.0.0.1:9/typed-hook"',
            created=WebhookEndpoint.objects.count,
        ),
        # The service refuses it (already a member): its words come through too.
        "invitation": Case(
            post_to=reverse("integrations:team_invite"),
            page=reverse("integrations:team"),
            data={"email": org.member.email, "role": "admin", "language": "fr"},
            input_id="id_email",
            error="already a member",
            typed=f'value="{org.member.email}"',
            created=Invitation.objects.count,
            extra={"selected": ['<option value="admin" selected>', '<option value="fr" selected>']},
        ),
    }


def error_under(page: str, input_id: str) -> str:
    """The error list Django renders for the input `input_id` (empty if there is none)."""
    match = re.search(rf'<ul class="errorlist" id="{input_id}_error">(.*?)</ul>', page, re.S)
    return match.group(1) if match else ""


CASE_NAMES = [
    "company",
    "company blank",
    "api key",
    "webhook endpoint",
    "webhook endpoint without events",
    "invitation",
]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_a_refused_create_redirects_and_shows_its_errors_once(admin_client, org_a, name):
    case = cases(org_a)[name]
    before = case.created()

    refused = admin_client.post(case.post_to, case.data)

    assert refused.status_code == HTTPStatus.SEE_OTHER
    assert refused["Location"] == case.page
    assert case.created() == before  # nothing was created
    shown = admin_client.get(case.page)
    assert shown.status_code == HTTPStatus.OK
    page = shown.content.decode()
    under = error_under(page, case.input_id)
    assert under, f"no error under #{case.input_id}"
    assert case.error in under
    assert case.typed in page
    for selected in case.extra.get("selected", []):
        assert selected in page
    # Used once: a reload shows a clean form.
    again = admin_client.get(case.page).content.decode()
    assert not error_under(again, case.input_id)
    assert 'class="errorlist' not in again
    if case.typed:
        assert case.typed not in again


def test_a_refused_credentials_save_keeps_no_secret(admin_client, org_a):
    data = {
        "credential_type": "3.1",
        "v31-client_id": "typed id",  # a space: refused
        "v31-client_secret": TYPED_SECRET,
    }

    refused = admin_client.post(SETTINGS_URL + "?page=2", data)

    assert (refused.status_code, refused["Location"]) == (
        HTTPStatus.SEE_OTHER,
        SETTINGS_URL + "?page=2",  # the query string kept
    )
    assert TYPED_SECRET not in str(dict(admin_client.session))
    assert not Integration.objects.exists()
    assert not CredentialSet.objects.exists()
    page = admin_client.get(refused["Location"]).content.decode()
    assert "secure keys must not contain spaces" in error_under(page, "id_v31-client_id")
    assert 'value="typed id"' in page
    assert TYPED_SECRET not in page
    # The secret that was typed is asked for again (its name was kept, never its value).
    assert 'data-testid="reenter-v31-client_secret"' in page
    again = admin_client.get(SETTINGS_URL).content.decode()
    assert 'value="typed id"' not in again
    assert 'data-testid="reenter-v31-client_secret"' not in again
    assert 'data-testid="error-summary"' not in again


def test_a_refused_edit_of_an_endpoint_comes_back_the_same_way(admin_client, org_a):
    admin_client.post(
        reverse("integrations:webhook_create"),
        {"url": "http://127.0.0.1:9/hooks", "events": ["company.created"], "enabled": "on"},
    )
    endpoint = WebhookEndpoint.objects.get()
    detail = reverse("integrations:webhook_detail", args=[endpoint.pk])

    refused = admin_client.post(detail, {"url": "http://127.0.0.1:9/edited", "events": []})

    assert (refused.status_code, refused["Location"]) == (HTTPStatus.SEE_OTHER, detail)
    page = admin_client.get(detail).content.decode()
    assert "Choose at least one event." in error_under(page, "id_events")
    assert 'value="http://127.0.0.1:9/edited"' in page
    again = admin_client.get(detail).content.decode()
    assert 'value="http://127.0.0.1:9/hooks"' in again  # the endpoint as saved
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:9/hooks"


def test_a_stash_is_never_shown_in_another_organization_or_to_another_user(
    client, org_a, org_b, make_user
):
    both = make_user("both@example.com")
    for org in (org_a, org_b):
        Membership.objects.create(organization=org, user=both, role=Membership.Role.ADMIN)
    client.force_login(both)
    switch = reverse("switch_organization")
    create = reverse("integrations:company_create")
    client.post(switch, {"organization": org_a.pk})

    assert client.post(create, {"name": "x" * 201}).status_code == HTTPStatus.SEE_OTHER

    # The same user, now in organization B: a clean form.
    client.post(switch, {"organization": org_b.pk})
    assert 'class="errorlist' not in client.get(create).content.decode()
    # Another user of organization A, in their own session: a clean form.
    other = Client()
    other.force_login(org_a.admin)
    assert 'class="errorlist' not in other.get(create).content.decode()
    # Back in organization A, the user's own refused form is still there, once.
    client.post(switch, {"organization": org_a.pk})
    assert "at most 200 characters" in client.get(create).content.decode()
    assert 'class="errorlist' not in client.get(create).content.decode()
