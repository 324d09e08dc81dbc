from http import HTTPStatus

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from integrations.configuration.services import credentials_save, integration_enable
from integrations.connections.lifecycle import connection_mark_for_relink
from integrations.models import Connection, CredentialSet, HistoryEvent, Integration

pytestmark = pytest.mark.django_db

SECRETS = {
    "client_secret": "client-secret-9f3A",
    "signing_secret": "signing-secret-7b2B",
    "subscription_key": "subscription-4c1C",
}
TOKENS = {"access_token": "access-token-5d0D", "refresh_token": "refresh-token-6e9E"}
VERIFIER = "pkce-verifier-3a8F"


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(
        make_user("support@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    )
    return client


@pytest.fixture
def data(org_a, make_company, make_connection, make_authorization_request):
    credentials_save(
        organization=org_a, actor=org_a.admin, api_version="3.0", client_id="v30-cid", **SECRETS
    )
    result = credentials_save(
        organization=org_a,
        actor=org_a.admin,
        api_version="3.1",
        client_id="v31-cid",
        client_secret="other-secret-2g7G",
    )
    integration_enable(integration=result.integration, actor=org_a.admin)
    company = make_company(org_a, "Corner Shop")
    connection = make_connection(
        company, result.credential_set, business_name="Corner Shop Ltd", **TOKENS
    )
    request = make_authorization_request(
        connection, state="state-value-1h6H", code_verifier=VERIFIER
    )
    return {"integration": result.integration, "connection": connection, "request": request}


def all_secrets():
    return [*SECRETS.values(), "other-secret-2g7G", *TOKENS.values(), VERIFIER, "state-value-1h6H"]


def assert_no_secret(body: bytes):
    text = body.decode()
    for secret in all_secrets():
        assert secret not in text, secret
    # Nor their ciphertexts.
    assert "v1:" not in text


def admin_urls(objects):
    integration, connection, request = (
        objects["integration"],
        objects["connection"],
        objects["request"],
    )
    event = HistoryEvent.objects.first()
    return [
        reverse("admin:integrations_integration_changelist"),
        reverse("admin:integrations_integration_changelist") + "?q=v31-cid",
        reverse("admin:integrations_integration_change", args=[integration.pk]),
        reverse("admin:integrations_company_changelist") + "?q=corner",
        reverse("admin:integrations_company_change", args=[connection.company.pk]),
        reverse("admin:integrations_connection_changelist"),
        reverse("admin:integrations_connection_changelist") + "?q=Corner",
        reverse("admin:integrations_connection_change", args=[connection.pk]),
        reverse("admin:integrations_authorizationrequest_changelist"),
        reverse("admin:integrations_authorizationrequest_change", args=[request.pk]),
        reverse("admin:integrations_historyevent_changelist"),
        reverse("admin:integrations_historyevent_changelist") + "?kind__exact=enabled",
        reverse("admin:integrations_historyevent_change", args=[event.pk]),
    ]


def test_pages_render_without_any_secret(staff_client, data):
    for url in admin_urls(data):
        response = staff_client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        assert_no_secret(response.content)


def test_integration_page_shows_masked_secrets(staff_client, data):
    page = staff_client.get(
        reverse("admin:integrations_integration_change", args=[data["integration"].pk])
    ).content.decode()
    assert "v30-cid" in page
    assert "v31-cid" in page
    assert "•••• 9f3A" in page
    assert "•••• 2g7G" in page
    assert "not set" in page  # the v3.1 set has no signing secret


@pytest.mark.parametrize("query", [*SECRETS.values(), "9f3A", "v1:"])
def test_search_by_secret_finds_nothing(staff_client, data, query):
    response = staff_client.get(reverse("admin:integrations_integration_changelist"), {"q": query})
    assert response.context["cl"].result_count == 0


def test_search_by_client_id_finds_the_integration(staff_client, data):
    response = staff_client.get(
        reverse("admin:integrations_integration_changelist"), {"q": "v30-cid"}
    )
    assert response.context["cl"].result_count == 1


def test_secrets_are_not_form_fields(staff_client, data):
    response = staff_client.get(
        reverse("admin:integrations_integration_change", args=[data["integration"].pk])
    )
    html = response.content.decode()
    for name in SECRETS:
        assert f'name="credential_sets-0-{name}"' not in html
    assert 'type="password"' not in html


@pytest.fixture
def viewer_client(client, make_user):
    """Support staff who may look at connections and integrations but not change them."""
    from django.contrib.auth.models import Permission

    user = make_user("viewer@portal.example", is_staff=True, two_factor=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_connection", "view_integration"])
    )
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("model", "action"),
    [("connection", "mark_for_relink"), ("integration", "disable_integration")],
)
def test_support_actions_need_the_change_permission(viewer_client, data, model, action):
    url = reverse(f"admin:integrations_{model}_changelist")
    page = viewer_client.get(url)
    assert page.status_code == HTTPStatus.OK
    assert f'value="{action}"'.encode() not in page.content

    target = data["connection"] if model == "connection" else data["integration"]
    viewer_client.post(url, {"action": action, "_selected_action": [target.pk]})

    assert Connection.objects.get().status == Connection.Status.LINKED
    assert Integration.objects.get().enabled
    assert not HistoryEvent.objects.filter(
        kind__in=[HistoryEvent.Kind.MARKED_FOR_RELINK, HistoryEvent.Kind.DISABLED]
    ).exists()


def test_read_only_models_cannot_be_added_or_deleted(staff_client, data):
    for name in ["integration", "connection", "authorizationrequest", "historyevent"]:
        response = staff_client.get(reverse(f"admin:integrations_{name}_add"))
        assert response.status_code == HTTPStatus.FORBIDDEN, name


def test_change_history_holds_no_secret(staff_client, data):
    integration = data["integration"]
    staff_client.post(
        reverse("admin:integrations_company_change", args=[data["connection"].company.pk]),
        {"name": "Corner Shop 2", "link_expires_at_0": "2030-01-01", "link_expires_at_1": "10:00"},
    )
    assert LogEntry.objects.exists()
    for entry in LogEntry.objects.all():
        assert_no_secret(entry.change_message.encode())
    page = staff_client.get(
        reverse("admin:integrations_integration_history", args=[integration.pk])
    )
    assert page.status_code == HTTPStatus.OK
    assert_no_secret(page.content)
    assert CredentialSet.objects.get(api_version="3.0").client_secret == SECRETS["client_secret"]


def test_members_are_not_let_in(client, org_a):
    client.force_login(org_a.admin)
    response = client.get(reverse("admin:integrations_integration_changelist"))
    assert response.status_code == HTTPStatus.FOUND


def test_support_sees_only_what_it_uses(staff_client):
    html = staff_client.get(reverse("admin:index")).content.decode().lower()
    assert "organizations" in html
    assert "connections" in html
    for hidden in ("groups", "email addresses", "task results"):
        assert hidden not in html, hidden


def test_a_connections_history_is_on_its_page_in_sentences(staff_client, data):
    connection = data["connection"]
    connection_mark_for_relink(
        connection=connection, actor=None, reason=HistoryEvent.Reason.SUPPORT
    )
    url = reverse("admin:integrations_connection_change", args=[connection.pk])
    html = staff_client.get(url).content.decode()
    # The state it led to, in the words of the organization's pages; who acted.
    assert "Relink requested · support · reason: Support; before: Linked" in html
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.MARKED_FOR_RELINK)
    page = staff_client.get(reverse("admin:integrations_historyevent_change", args=[event.pk]))
    assert "reason: Support; before: Linked" in page.content.decode()
    assert '{"reason"' not in page.content.decode()
