from http import HTTPStatus

import pytest
from django.urls import reverse

from integrations.audit.history import history_record
from integrations.configuration.services import credentials_save, integration_enable
from integrations.models import Connection, CredentialSet, HistoryEvent, Integration
from tests.common.factories import CLIENT_SECRET as SECRET
from tests.common.factories import SIGNING_SECRET, SUBSCRIPTION_KEY

# Saving asks Sage about the keys: the sandbox answers (open registration accepts them).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sage_sandbox")]

V30_SECRETS = {
    "client_secret": "v30-secret-Q7",
    "signing_secret": SIGNING_SECRET,
    "subscription_key": SUBSCRIPTION_KEY,
}
LIST_URL = reverse("integrations:accounting_list")
SETTINGS_URL = reverse("integrations:integration_settings")
ENABLE_URL = reverse("integrations:integration_enable")


def v31_post(**overrides):
    return {
        "credential_type": "3.1",
        "v31-client_id": "my-client-id",
        "v31-client_secret": SECRET,
        **overrides,
    }


def setup_v31(org, *, enabled=False, secret=SECRET):
    result = credentials_save(
        organization=org,
        actor=org.admin,
        api_version="3.1",
        client_id="cid",
        client_secret=secret,
    )
    if enabled:
        integration_enable(integration=result.integration, actor=org.admin)
    return result.integration


def toggle_url(integration):
    return reverse("integrations:integration_toggle", args=[integration.pk])


def test_list_not_configured(admin_client):
    page = admin_client.get(LIST_URL)
    assert page.status_code == HTTPStatus.OK
    assert b"Not configured" in page.content
    assert b"Set up" in page.content
    assert b"Manage" not in page.content


@pytest.mark.parametrize(("enabled", "label"), [(False, b"Disabled"), (True, b"Enabled")])
def test_list_configured(admin_client, org_a, enabled, label):
    setup_v31(org_a, enabled=enabled)
    page = admin_client.get(LIST_URL)
    assert label in page.content
    assert b"Manage" in page.content
    assert b"aria-pressed" in page.content


def test_settings_page_shows_questions_labels_and_callback(admin_client):
    page = admin_client.get(SETTINGS_URL)
    text = page.content.decode()
    for needle in [
        "Integration settings",
        "What credentials do you have?",
        "Client ID, client secret, signing secret and subscription key (API v3 - UKI)",
        "Client ID and client secret only (API v3.1 - UKI, US, CA, DE, ES, FR)",
        "Client secret",
        "Signing secret",
        "Subscription key",
        "Make sure that your secure keys don't contain any spaces.",
        "http://testserver/oauth/sage/callback/",
        "https://developerselfservice.sageone.com/session/new",
        "31 July 2026",
        ">Save<",
    ]:
        assert needle in text, needle


def test_save_then_dialog_then_enable(admin_client, org_a):
    response = admin_client.post(SETTINGS_URL, v31_post())
    assert response.status_code == HTTPStatus.FOUND
    page = admin_client.get(response["Location"])
    assert b"Settings saved." in page.content
    assert b"<dialog data-open-on-load" in page.content
    assert b"Enable now" in page.content
    assert b"Later" in page.content
    # The dialog is offered once, not on every later visit.
    assert b"data-open-on-load" not in admin_client.get(SETTINGS_URL).content

    # Without JavaScript the same choice is its own page.
    choice = admin_client.get(ENABLE_URL)
    assert choice.status_code == HTTPStatus.OK
    assert b"Enable now" in choice.content
    assert b"Later" in choice.content
    done = admin_client.post(ENABLE_URL, follow=True)
    assert b"Sage Accounting is enabled." in done.content
    assert Integration.objects.get(organization=org_a).enabled
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.ENABLED, actor=org_a.admin).exists()


def test_later_leaves_it_disabled(admin_client, org_a):
    admin_client.post(SETTINGS_URL, v31_post())
    page = admin_client.get(ENABLE_URL)
    assert reverse("integrations:accounting_list").encode() in page.content
    assert not Integration.objects.get(organization=org_a).enabled


def test_no_dialog_when_already_enabled(admin_client, org_a):
    setup_v31(org_a, enabled=True)
    admin_client.post(SETTINGS_URL, v31_post())
    assert b"data-open-on-load" not in admin_client.get(SETTINGS_URL).content


def test_secret_never_in_any_response(admin_client, org_a):
    bodies = [admin_client.post(SETTINGS_URL, v31_post(), follow=True).content]
    bodies.append(admin_client.get(SETTINGS_URL).content)
    bodies.append(admin_client.get(LIST_URL).content)
    bodies.append(admin_client.get(ENABLE_URL).content)
    # An invalid POST does not echo the secret back either.
    bodies.append(admin_client.post(SETTINGS_URL, v31_post(**{"v31-client_id": "a b"})).content)
    for body in bodies:
        assert SECRET.encode() not in body
    assert f"•••• {SECRET[-4:]}".encode() in bodies[1]


def test_invalid_post_saves_nothing(admin_client):
    response = admin_client.post(
        SETTINGS_URL, v31_post(**{"v31-client_secret": "has space"}), follow=True
    )
    assert response.redirect_chain == [(SETTINGS_URL, HTTPStatus.SEE_OTHER)]
    assert b"Client secret: secure keys must not contain spaces." in response.content
    assert not Integration.objects.exists()
    assert not CredentialSet.objects.exists()
    assert not HistoryEvent.objects.exists()


def test_invalid_edit_keeps_everything(admin_client, org_a):
    setup_v31(org_a)
    admin_client.post(
        SETTINGS_URL, v31_post(**{"v31-client_id": "new", "v31-client_secret": "x" * 300})
    )
    stored = CredentialSet.objects.get()
    assert (stored.client_id, stored.client_secret) == ("cid", SECRET)


def test_blank_secret_keeps_value_via_the_page(admin_client, org_a):
    setup_v31(org_a)
    admin_client.post(SETTINGS_URL, v31_post(**{"v31-client_id": "cid2", "v31-client_secret": ""}))
    stored = CredentialSet.objects.get()
    assert (stored.client_id, stored.client_secret) == ("cid2", SECRET)


def test_v30_only_shows_v30_selected(admin_client, org_a):
    credentials_save(
        organization=org_a, actor=org_a.admin, api_version="3.0", client_id="old", **V30_SECRETS
    )
    page = admin_client.get(SETTINGS_URL)
    assert page.context["form"].chosen_version() == "3.0"
    assert b'value="3.0"' in page.content
    assert b"checked" in page.content
    for secret in V30_SECRETS.values():
        assert secret.encode() not in page.content


def test_members_see_read_only(member_client, org_a):
    setup_v31(org_a)
    page = member_client.get(SETTINGS_URL)
    assert page.status_code == HTTPStatus.OK
    assert b">Save<" not in page.content
    main = page.content.split(b'<main id="main"')[1]
    assert b"<input" not in main  # a summary, not a form of disabled inputs
    assert b'data-testid="history"' not in page.content
    assert b"aria-pressed" not in member_client.get(LIST_URL).content


@pytest.mark.parametrize("url_name", ["settings", "enable", "toggle"])
def test_member_post_is_403(member_client, org_a, url_name):
    integration = setup_v31(org_a)
    url = {"settings": SETTINGS_URL, "enable": ENABLE_URL, "toggle": toggle_url(integration)}[
        url_name
    ]
    response = member_client.post(url, {**v31_post(**{"v31-client_id": "evil"}), "enabled": "true"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    integration.refresh_from_db()
    assert not integration.enabled
    assert CredentialSet.objects.get().client_id == "cid"


def test_support_staff_without_membership_get_nothing(client, make_user):
    client.force_login(make_user("support@example.com", is_staff=True))
    assert client.get(SETTINGS_URL).status_code == HTTPStatus.NOT_FOUND
    assert client.get(LIST_URL).status_code == HTTPStatus.NOT_FOUND


def test_anonymous_is_sent_to_login(client):
    response = client.get(SETTINGS_URL)
    assert response.status_code == HTTPStatus.FOUND
    assert reverse("account_login") in response["Location"]


def test_other_organizations_integration_is_404(admin_client, org_a, org_b):
    theirs = setup_v31(org_b, secret="their-secret-B0B0")
    response = admin_client.post(toggle_url(theirs), {"enabled": "true"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    theirs.refresh_from_db()
    assert not theirs.enabled
    page = admin_client.get(SETTINGS_URL)
    assert b"B0B0" not in page.content
    assert b"Not configured" in page.content


def test_toggle_enables_and_disables(admin_client, org_a):
    integration = setup_v31(org_a)
    page = admin_client.post(toggle_url(integration), {"enabled": "true"}, follow=True)
    assert b"Sage Accounting is enabled." in page.content
    integration.refresh_from_db()
    assert integration.enabled
    admin_client.post(toggle_url(integration), {"enabled": "false", "confirmed": "true"})
    integration.refresh_from_db()
    assert not integration.enabled
    kinds = set(HistoryEvent.objects.values_list("kind", flat=True))
    assert {HistoryEvent.Kind.ENABLED, HistoryEvent.Kind.DISABLED} <= kinds


def test_toggle_refuses_incomplete_integration_and_says_why(admin_client, org_a):
    integration = setup_v31(org_a)
    Integration.objects.update(new_links_api_version="3.0")  # the chosen type has no set
    page = admin_client.post(toggle_url(integration), {"enabled": "true"}, follow=True)
    assert b"cannot be enabled" in page.content
    assert b"Signing secret" in page.content
    assert b"Subscription key" in page.content
    integration.refresh_from_db()
    assert not integration.enabled


def test_toggle_ignores_foreign_next(admin_client, org_a):
    integration = setup_v31(org_a)
    response = admin_client.post(
        toggle_url(integration), {"enabled": "true", "next": "https://evil.example/"}
    )
    assert response["Location"] == LIST_URL


def test_history_on_settings_page(admin_client, org_a):
    admin_client.post(SETTINGS_URL, v31_post())
    admin_client.post(ENABLE_URL)
    page = admin_client.get(SETTINGS_URL).content.decode()
    assert "Credentials changed" in page
    assert "Client ID, Client secret" in page
    assert "Integration enabled" in page
    assert org_a.admin.email in page


def test_relink_warning_and_confirmation(admin_client, org_a, make_company, make_connection):
    setup_v31(org_a)
    company = make_company(org_a, "Shop")
    connection = make_connection(company, CredentialSet.objects.get())
    page = admin_client.get(SETTINGS_URL)
    assert b"1 linked company uses this client ID" in page.content
    refused = admin_client.post(
        SETTINGS_URL, v31_post(**{"v31-client_id": "new-id", "v31-client_secret": ""}), follow=True
    )
    assert refused.redirect_chain == [(SETTINGS_URL, HTTPStatus.SEE_OTHER)]
    assert b"will need to relink" in refused.content
    assert CredentialSet.objects.get().client_id == "cid"
    ok = admin_client.post(
        SETTINGS_URL,
        v31_post(**{"v31-client_id": "new-id", "v31-client_secret": "", "confirm_relink": "on"}),
    )
    assert ok.status_code == HTTPStatus.FOUND
    assert CredentialSet.objects.get().client_id == "new-id"
    connection.refresh_from_db()
    assert connection.status == Connection.Status.DEAUTHORIZED


def test_check_credentials_button_only_when_complete(admin_client, org_a):
    check_url = reverse("integrations:credentials_check").encode()
    assert check_url not in admin_client.get(SETTINGS_URL).content
    setup_v31(org_a)
    assert check_url in admin_client.get(SETTINGS_URL).content


def test_pages_in_french(admin_client, org_a):
    setup_v31(org_a)
    admin_client.post(reverse("set_language"), {"language": "fr"})
    settings_page = admin_client.get(SETTINGS_URL).content.decode()
    for needle in [
        "Paramètres d'intégration",
        "Quels identifiants avez-vous ?",
        "Enregistrer",
        "Assurez-vous que vos clés sécurisées ne contiennent aucun espace.",
        "Client ID and client secret only (API v3.1 - UKI, US, CA, DE, ES, FR)",
    ]:
        assert needle in settings_page, needle
    listing = admin_client.get(LIST_URL).content.decode()
    assert "Intégrations comptables" in listing
    assert "Gérer" in listing
    assert "Activer Sage Accounting" in admin_client.get(ENABLE_URL).content.decode()


def test_undecryptable_secret_does_not_break_the_page(admin_client, org_a, settings):
    from integrations import crypto

    setup_v31(org_a)
    settings.FIELD_ENCRYPTION_KEYS = [crypto.generate_key()]  # the old key was dropped
    page = admin_client.get(SETTINGS_URL)
    assert page.status_code == HTTPStatus.OK
    assert SECRET.encode() not in page.content
    response = admin_client.post(SETTINGS_URL, v31_post(**{"v31-client_id": "cid"}))
    assert response.status_code == HTTPStatus.FOUND
    assert CredentialSet.objects.get().client_secret == SECRET


def test_relink_warning_counts_only_this_sets_linked_connections(
    admin_client, org_a, org_b, make_company, make_connection
):
    def connections(org, integration, statuses):
        credential_set = CredentialSet.objects.get(integration=integration)
        for n, status in enumerate(statuses):
            make_connection(make_company(org, f"Shop {n}"), credential_set, status=status)

    status = Connection.Status
    connections(
        org_a,
        setup_v31(org_a),
        [status.LINKED, status.LINKED, status.DEAUTHORIZED, status.PENDING_AUTH, status.UNLINKED],
    )
    connections(org_b, setup_v31(org_b), [status.LINKED] * 3)
    page = admin_client.get(SETTINGS_URL).content.decode()
    assert "2 linked companies use this client ID" in page
    assert page.count('data-testid="relink-warning"') == 1


# Issue 21 item 7: the setup steps fold once keys are saved; the history is paged.


def test_the_setup_steps_fold_once_keys_are_saved_and_open_on_an_error(
    admin_client, org_a, setup_sage
):
    url = reverse("integrations:integration_settings")
    first = admin_client.get(url).content.decode()
    assert 'data-testid="setup-steps"' not in first  # nothing saved: the steps, open
    assert 'data-testid="step-1"' in first
    setup_sage(org_a)
    page = admin_client.get(url).content.decode()
    details = page[page.index('<details class="setup-steps"') :].split(">", 1)[0]
    assert " open" not in details
    assert 'id="change-keys">Change keys</summary>' in page
    refused = admin_client.post(
        url, {"credential_type": "3.1", "v31-client_id": "with space"}, follow=True
    ).content.decode()
    assert '<details class="setup-steps" data-testid="setup-steps" open>' in refused


def test_the_settings_history_is_paged(admin_client, org_a, setup_sage):
    integration, _ = setup_sage(org_a)
    for _ in range(25):
        history_record(
            organization=org_a,
            kind=HistoryEvent.Kind.CREDENTIALS_CHECKED,
            integration=integration,
            details={"api_version": "3.1", "result": "accepted"},
        )
    url = reverse("integrations:integration_settings")
    first = admin_client.get(url).content.decode()
    history = first.split('data-testid="history"')[1].split("</ul>")[0]
    assert history.count("<li>") == 20
    assert 'rel="next"' in first
    second = admin_client.get(url, {"page": 2}).content.decode()
    assert "Page 2 of 2" in second
    assert 'rel="prev"' in second
