"""Check credentials: Sage's token endpoint says whether the client ID and secret are accepted."""

from http import HTTPStatus

import pytest
from django.urls import NoReverseMatch, reverse

from integrations.models import CredentialSet, HistoryEvent
from integrations.sage.versions import ApiVersion
from tests.common.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db


URL = reverse("integrations:credentials_check")
ACCEPTED = "Sage accepted this client ID and secret."
REJECTED = "Sage rejected this client ID or secret."
UNREACHABLE = "Sage could not be reached"


def settings_url() -> str:
    try:
        return reverse("integrations:integration_settings")
    except NoReverseMatch:
        return reverse("integrations:accounting_list")


@pytest.fixture
def integration(sage_sandbox, org_a, make_credential_set, make_integration):
    integration = make_integration(org_a)
    make_credential_set(integration, sage_sandbox)
    return integration


def shown_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize("api_version", [ApiVersion.V31, ApiVersion.V30])
def test_accepted_credentials(
    sage_sandbox, org_a, admin_client, api_version, make_credential_set, make_integration
):
    integration = make_integration(org_a, api_version=api_version)
    integration.new_links_api_version = api_version
    integration.save()
    make_credential_set(integration, sage_sandbox, api_version=api_version)

    response = admin_client.post(URL, follow=True)

    assert response.redirect_chain[0] == (settings_url(), HTTPStatus.FOUND)
    assert shown_messages(response) == [ACCEPTED]
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.CREDENTIALS_CHECKED)
    assert event.actor == org_a.admin
    assert event.integration == integration
    assert event.details == {"api_version": api_version, "result": "accepted"}
    # The secret went to the chosen set's token URL, once, and nowhere else.
    route = "v30_token" if api_version == ApiVersion.V30 else "token"
    assert [r.route for r in sage_sandbox.requests] == [route]
    assert sage_sandbox.requests[0].form["client_secret"] == CLIENT_SECRET


def test_rejected_credentials(sage_sandbox, integration, admin_client):
    CredentialSet.objects.filter(integration=integration).update(client_id="unknown-client")
    sage_sandbox.open_registration = False

    response = admin_client.post(URL, follow=True)

    assert shown_messages(response) == [REJECTED]
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.CREDENTIALS_CHECKED)
    assert event.details["result"] == "rejected"


def test_wrong_secret_is_rejected(sage_sandbox, integration, admin_client):
    credential_set = integration.credential_sets.get()
    credential_set.client_secret = "not-the-right-secret"
    credential_set.save()

    response = admin_client.post(URL, follow=True)

    assert shown_messages(response) == [REJECTED]
    assert "not-the-right-secret" not in response.content.decode()
    assert "not-the-right-secret" not in str(HistoryEvent.objects.get().details)


@pytest.mark.parametrize(("kind", "options"), [("status_500", {}), ("slow", {"seconds": 1.5})])
def test_unreachable_sage(sage_sandbox, integration, admin_client, settings, kind, options):
    settings.SAGE_HTTP_TIMEOUT = 0.5
    sage_sandbox.fail_next("token", kind, **options)

    response = admin_client.post(URL, follow=True)

    [message] = shown_messages(response)
    assert message.startswith(UNREACHABLE)
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.CREDENTIALS_CHECKED)
    assert event.details["result"] == "unreachable"


def test_answer_is_in_french(sage_sandbox, integration, admin_client):
    response = admin_client.post(URL, follow=True, headers={"accept-language": "fr"})

    assert shown_messages(response) == ["Sage a accepté ce Client ID et ce Client secret."]


def test_incomplete_credentials_are_not_sent(sage_sandbox, org_a, admin_client, make_integration):
    make_integration(org_a)

    response = admin_client.post(URL, follow=True)

    assert shown_messages(response) == ["Save the client ID and secret before checking them."]
    assert sage_sandbox.requests == []
    assert not HistoryEvent.objects.exists()


def test_members_cannot_check(sage_sandbox, integration, member_client):
    assert member_client.post(URL).status_code == HTTPStatus.FORBIDDEN
    assert sage_sandbox.requests == []


def test_get_is_not_allowed(integration, admin_client):
    assert admin_client.get(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_other_organization_has_no_integration_to_check(sage_sandbox, integration, client, org_b):
    client.force_login(org_b.admin)

    assert client.post(URL).status_code == HTTPStatus.NOT_FOUND
    assert sage_sandbox.requests == []
    assert not HistoryEvent.objects.exists()


def test_a_redirect_from_the_token_endpoint_is_not_followed(
    sage_sandbox, integration, admin_client
):
    sage_sandbox.fail_next("token", "redirect", location=f"{sage_sandbox.url}/collect")

    response = admin_client.post(URL, follow=True)

    [message] = shown_messages(response)
    assert message.startswith(UNREACHABLE)
    assert [r.path for r in sage_sandbox.requests] == ["/token"]  # never sent to /collect
