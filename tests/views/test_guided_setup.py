"""Issue 13 §2: the guided setup. Keys checked with Sage on Save, both sets as cards,
confirmations, the error summary, the members' summary and the first-steps checklist."""

import re
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from integrations.configuration.services import credentials_save
from integrations.models import CredentialSet, HistoryEvent, Integration
from tests.common.factories import CLIENT_ID, CLIENT_SECRET, V30_SECRETS
from tests.linking.link_flow import authorize_query, callback_path

pytestmark = pytest.mark.django_db

SETTINGS_URL = reverse("integrations:integration_settings")
LIST_URL = reverse("integrations:accounting_list")
ENABLE_URL = reverse("integrations:integration_enable")
COMPANIES_URL = reverse("integrations:company_list")
ACCEPTED = re.compile(r"Accepted by Sage on \w")
REJECTED = "Rejected by Sage on"
UNREACHABLE = "Not checked: Sage could not be reached"


def v31_post(**overrides):
    return {
        "credential_type": "3.1",
        "v31-client_id": CLIENT_ID["3.1"],
        "v31-client_secret": CLIENT_SECRET,
        **overrides,
    }


def v30_post(**overrides):
    return {
        "credential_type": "3.0",
        "v30-client_id": CLIENT_ID["3.0"],
        "v30-client_secret": CLIENT_SECRET,
        **{f"v30-{k}": v for k, v in V30_SECRETS.items()},
        **overrides,
    }


def text(client, url) -> str:
    return client.get(url).content.decode()


def main_of(page: str) -> str:
    return page.split('<main id="main"', 1)[1]


def stored_check(org) -> tuple[str, object]:
    credential_set = Integration.objects.get(organization=org).chosen_credential_set()
    return credential_set.last_check_result, credential_set.last_check_at


def set_check(org, result):
    CredentialSet.objects.filter(integration__organization=org).update(last_check_result=result)


def toggle_url(org):
    return reverse(
        "integrations:integration_toggle", args=[Integration.objects.get(organization=org).pk]
    )


# Keys checked on Save, kept, and shown on both pages.


def test_keys_accepted_by_sage_on_save(sage_sandbox, admin_client, org_a):
    response = admin_client.post(SETTINGS_URL, v31_post(), follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "Settings saved. Sage accepted this client ID and secret."
    ]
    assert stored_check(org_a)[0] == CredentialSet.Check.ACCEPTED
    assert stored_check(org_a)[1] is not None
    # The secret went to Sage's token endpoint, once.
    assert [r.route for r in sage_sandbox.requests] == ["token"]
    assert ACCEPTED.search(text(admin_client, SETTINGS_URL))
    assert ACCEPTED.search(text(admin_client, LIST_URL))
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.CREDENTIALS_CHECKED)
    assert event.details == {"api_version": "3.1", "result": "accepted"}
    history = text(admin_client, SETTINGS_URL).split('data-testid="history"')[1]
    assert "<strong>Credentials checked</strong>: Accepted by Sage" in history


def test_keys_rejected_by_sage_on_save_are_still_saved(sage_sandbox, admin_client, org_a):
    sage_sandbox.open_registration = False  # Sage knows no such client ID

    response = admin_client.post(SETTINGS_URL, v31_post())

    assert response.status_code == HTTPStatus.FOUND
    assert stored_check(org_a)[0] == CredentialSet.Check.REJECTED
    settings_page = text(admin_client, SETTINGS_URL)
    assert REJECTED in settings_page
    assert REJECTED in text(admin_client, LIST_URL)
    assert "Accepted by Sage" not in settings_page
    # The dialog after Save says so, and offers to enable anyway, not "Enable now".
    assert 'data-testid="enable-keys-rejected"' in settings_page
    assert "Enable anyway" in settings_page


@pytest.mark.parametrize("fault", ["status_500", "malformed_json"])
def test_save_succeeds_when_sage_cannot_be_reached(sage_sandbox, admin_client, org_a, fault):
    sage_sandbox.fail_next("token", fault)

    response = admin_client.post(SETTINGS_URL, v31_post())

    assert response.status_code == HTTPStatus.FOUND
    assert CredentialSet.objects.get().client_id == CLIENT_ID["3.1"]
    assert stored_check(org_a)[0] == CredentialSet.Check.UNREACHABLE
    assert UNREACHABLE in text(admin_client, SETTINGS_URL)
    assert UNREACHABLE in text(admin_client, LIST_URL)


def test_without_sage_at_all_the_save_still_succeeds(admin_client, org_a):
    # No sandbox: every Sage URL points at a closed port (tests/conftest.py).
    response = admin_client.post(SETTINGS_URL, v31_post())

    assert response.status_code == HTTPStatus.FOUND
    assert stored_check(org_a)[0] == CredentialSet.Check.UNREACHABLE


@pytest.mark.parametrize(
    ("change", "cleared"),
    [
        ({"client_secret": "a-new-secret-9999"}, True),
        ({"client_id": "another-client-id"}, True),
        ({}, False),  # the same keys saved again: Sage's answer still holds
    ],
)
def test_a_new_client_id_or_secret_forgets_the_old_answer(org_a, setup_sage, change, cleared):
    _, credential_set = setup_sage(org_a, enable=False)
    set_check(org_a, CredentialSet.Check.ACCEPTED)

    credentials_save(
        organization=org_a,
        actor=org_a.admin,
        api_version="3.1",
        client_id=change.get("client_id", credential_set.client_id),
        client_secret=change.get("client_secret", ""),
    )

    credential_set.refresh_from_db()
    expected = "" if cleared else CredentialSet.Check.ACCEPTED
    assert credential_set.last_check_result == expected


def test_check_again_keeps_the_answer(sage_sandbox, admin_client, org_a, setup_sage):
    _, credential_set = setup_sage(org_a)
    sage_sandbox.register_client(credential_set.client_id, "not-what-we-hold")
    page = text(admin_client, SETTINGS_URL)
    assert "Not checked yet" in page
    assert "Check credentials" in page

    admin_client.post(reverse("integrations:credentials_check"))

    assert REJECTED in text(admin_client, LIST_URL)


def test_a_customers_link_refused_for_the_keys(
    sage_sandbox, client, admin_client, org_a, keys_rejected_company
):
    query = authorize_query(client, keys_rejected_company)
    result = client.get(callback_path(sage_sandbox.approve(query)), follow=True)

    # The customer is told it is not their doing.
    assert "Nothing is wrong on your side" in result.content.decode()
    # The admins see it on the integrations list and the settings page.
    assert stored_check(org_a)[0] == CredentialSet.Check.REJECTED
    assert REJECTED in text(admin_client, LIST_URL)
    assert REJECTED in text(admin_client, SETTINGS_URL)


def test_the_customers_words_in_french(sage_sandbox, client, keys_rejected_company):
    client.cookies["django_language"] = "fr"
    query = authorize_query(client, keys_rejected_company)
    result = client.get(
        callback_path(sage_sandbox.approve(query)), follow=True, headers={"accept-language": "fr"}
    )
    assert "Rien ne cloche de votre côté" in result.content.decode()


def test_one_organizations_answer_is_not_anothers(sage_sandbox, client, org_a, org_b, setup_sage):
    setup_sage(org_a)
    setup_sage(org_b)
    set_check(org_b, CredentialSet.Check.REJECTED)
    client.force_login(org_a.admin)

    assert REJECTED not in text(client, LIST_URL)
    assert "Not checked yet" in text(client, LIST_URL)
    client.force_login(org_b.admin)
    assert REJECTED in text(client, LIST_URL)


# Enabling keys Sage rejected, and disabling, ask first.


def test_enabling_rejected_keys_asks_first(admin_client, org_a, setup_sage):
    setup_sage(org_a, enable=False)
    set_check(org_a, CredentialSet.Check.REJECTED)
    # With JavaScript, the toggle opens a dialog.
    assert 'data-testid="confirm-toggle"' in text(admin_client, LIST_URL)

    asked = admin_client.post(toggle_url(org_a), {"enabled": "true"})

    assert asked.status_code == HTTPStatus.OK
    assert "Enable Sage Accounting with rejected keys?" in asked.content.decode()
    assert not Integration.objects.get().enabled
    admin_client.post(toggle_url(org_a), {"enabled": "true", "confirmed": "true"})
    assert Integration.objects.get().enabled


def test_enabling_accepted_keys_does_not_ask(admin_client, org_a, setup_sage):
    setup_sage(org_a, enable=False)
    set_check(org_a, CredentialSet.Check.ACCEPTED)
    assert 'data-testid="confirm-toggle"' not in text(admin_client, LIST_URL)

    response = admin_client.post(toggle_url(org_a), {"enabled": "true"})

    assert response.status_code == HTTPStatus.FOUND
    assert Integration.objects.get().enabled


def test_the_enable_page_asks_again_for_rejected_keys(admin_client, org_a, setup_sage):
    setup_sage(org_a, enable=False)
    set_check(org_a, CredentialSet.Check.REJECTED)

    refused = admin_client.post(ENABLE_URL)

    assert refused["Location"] == ENABLE_URL
    assert not Integration.objects.get().enabled
    page = text(admin_client, ENABLE_URL)
    assert "Sage rejected these keys" in page
    assert "Enable anyway" in page
    admin_client.post(ENABLE_URL, {"confirmed": "true"})
    assert Integration.objects.get().enabled


def test_disabling_asks_first(admin_client, org_a, setup_sage):
    setup_sage(org_a)
    assert 'data-testid="confirm-toggle"' in text(admin_client, LIST_URL)

    asked = admin_client.post(toggle_url(org_a), {"enabled": "false", "next": SETTINGS_URL})

    page = asked.content.decode()
    assert asked.status_code == HTTPStatus.OK
    assert "Disable Sage Accounting?" in page
    assert f'href="{SETTINGS_URL}"' in page  # Cancel goes back where the admin was
    assert Integration.objects.get().enabled
    admin_client.post(toggle_url(org_a), {"enabled": "false", "confirmed": "true"})
    assert not Integration.objects.get().enabled


def test_members_cannot_confirm_a_disable(member_client, org_a, setup_sage):
    setup_sage(org_a)
    response = member_client.post(toggle_url(org_a), {"enabled": "false", "confirmed": "true"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Integration.objects.get().enabled


# Both credential sets as cards; choosing v3.0 for new links asks first.


def test_both_sets_as_cards(admin_client, org_a, setup_sage, make_company, make_connection):
    _, v30 = setup_sage(org_a, version="3.0")
    _, v31 = setup_sage(org_a, version="3.1")
    for n in range(2):
        make_connection(make_company(org_a, f"New {n}"), v31)
    make_connection(make_company(org_a, "Old"), v30)

    page = text(admin_client, SETTINGS_URL)

    v31_card = page.split('data-testid="credential-card-3.1"')[1].split("</li>")[0]
    v30_card = page.split('data-testid="credential-card-3.0"')[1].split("</li>")[0]
    assert "API v3.1" in v31_card
    assert CLIENT_ID["3.1"] in v31_card
    assert "used for new links" in v31_card
    assert "2 linked companies" in v31_card
    assert "API v3.0 (legacy)" in v30_card
    assert "used for new links" not in v30_card
    assert "1 linked company" in v30_card
    assert page.index("credential-card-3.1") < page.index("credential-card-3.0")


def test_choosing_v30_for_new_links_asks_first(admin_client, org_a, setup_sage):
    setup_sage(org_a)

    refused = admin_client.post(SETTINGS_URL, v30_post(), follow=True)

    assert refused.redirect_chain == [(SETTINGS_URL, HTTPStatus.SEE_OTHER)]
    assert (
        "Confirm that new customers will only be able to choose the United Kingdom or Ireland."
        in refused.content.decode()
    )
    assert not CredentialSet.objects.filter(api_version="3.0").exists()
    assert Integration.objects.get().new_links_api_version == "3.1"
    ok = admin_client.post(SETTINGS_URL, v30_post(confirm_v30="on"))
    assert ok.status_code == HTTPStatus.FOUND
    assert Integration.objects.get().new_links_api_version == "3.0"


def test_an_integration_already_on_v30_saves_without_asking(admin_client, org_a, setup_sage):
    setup_sage(org_a, version="3.0")
    page = text(admin_client, SETTINGS_URL)
    assert 'data-testid="confirm-v30"' not in page

    response = admin_client.post(SETTINGS_URL, v30_post(**{"v30-client_secret": ""}))

    assert response.status_code == HTTPStatus.FOUND


def test_the_v30_dialog_is_on_the_page_for_v31_integrations(admin_client, org_a, setup_sage):
    setup_sage(org_a)
    page = text(admin_client, SETTINGS_URL)
    assert 'data-testid="confirm-v30"' in page
    assert "New customers will only be able to choose the United Kingdom or Ireland" in page


# The relink box, cleared secrets, the error summary.


def relink_box(page: str) -> str:
    return page.split('data-testid="relink-box"')[1].split(">")[0]


def test_the_relink_box_appears_only_when_the_client_id_changes(
    admin_client, org_a, setup_sage, make_company, make_connection
):
    _, credential_set = setup_sage(org_a)
    make_connection(make_company(org_a), credential_set)
    assert "hidden" in relink_box(text(admin_client, SETTINGS_URL))

    # Same client ID, an invalid secret: the page comes back, no box.
    same = admin_client.post(SETTINGS_URL, v31_post(**{"v31-client_secret": "a b"}), follow=True)
    assert "hidden" in relink_box(same.content.decode())

    changed = admin_client.post(
        SETTINGS_URL,
        v31_post(**{"v31-client_id": "new-id", "v31-client_secret": ""}),
        follow=True,
    )
    assert changed.status_code == HTTPStatus.OK
    assert "hidden" not in relink_box(changed.content.decode())
    assert CredentialSet.objects.get().client_id == CLIENT_ID["3.1"]


def test_a_cleared_secret_says_re_enter_it(admin_client, org_a, setup_sage):
    setup_sage(org_a)

    response = admin_client.post(
        SETTINGS_URL,
        v31_post(**{"v31-client_id": "has space", "v31-client_secret": "typed-new-secret"}),
        follow=True,
    )

    page = response.content.decode()
    assert "Re-enter the client secret" in page
    assert "typed-new-secret" not in page
    # A secret left blank (keep the stored one) was not lost: nothing to re-enter.
    blank = admin_client.post(
        SETTINGS_URL,
        v31_post(**{"v31-client_id": "has space", "v31-client_secret": ""}),
        follow=True,
    )
    assert "Re-enter the client secret" not in blank.content.decode()


def test_errors_are_listed_at_the_top_and_marked(admin_client):
    response = admin_client.post(
        SETTINGS_URL,
        v30_post(
            confirm_v30="on",
            **{"v30-client_id": "has space", "v30-subscription_key": "bad key"},
        ),
        follow=True,
    )

    page = response.content.decode()
    summary = page.split('data-testid="error-summary"')[1].split("</div>")[0]
    assert "correct these 2 errors" in summary
    assert 'href="#id_v30-client_id"' in summary
    assert 'href="#id_v30-subscription_key"' in summary
    assert "Subscription key: secure keys must not contain spaces." in summary
    assert "Subscription key: Subscription key" not in summary
    assert page.index('data-testid="error-summary"') < page.index('id="settings-form"')
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_v30-client_id"', page)
    assert page.count("field--error") == 2
    assert not Integration.objects.exists()


def test_no_error_summary_on_a_clean_page(admin_client):
    assert 'data-testid="error-summary"' not in text(admin_client, SETTINGS_URL)


# The page's numbered steps.


def test_the_page_follows_the_seeds_three_steps(admin_client):
    page = text(admin_client, SETTINGS_URL)
    steps = [page.index(f'data-testid="step-{n}"') for n in (1, 2, 3)]
    assert steps == sorted(steps)
    step_1 = page[steps[0] : steps[1]]
    # The callback URL with its copy button first, then the link to the portal.
    assert step_1.index("data-copy") < step_1.index("https://developerselfservice.sageone.com")
    assert "http://testserver/oauth/sage/callback/" in step_1
    assert "What credentials do you have?" in page[steps[1] : steps[2]]
    assert ">Save<" in page[steps[2] :]


# A member reads a summary, with whom to ask.


def test_a_member_reads_a_summary_naming_the_admins(client, org_a, org_b, setup_sage):
    setup_sage(org_a)
    set_check(org_a, CredentialSet.Check.ACCEPTED)
    client.force_login(org_a.member)

    page = text(client, SETTINGS_URL)

    main = main_of(page)
    assert "Only admins can change these settings:" in main
    assert org_a.admin.email in main
    assert org_a.member.email not in main
    assert org_b.admin.email not in main
    assert "<input" not in main
    assert "<form" not in main
    assert "Accepted by Sage on" in main
    assert CLIENT_SECRET[-4:] not in page


def test_a_member_of_an_organization_without_sage(client, org_a):
    client.force_login(org_a.member)
    main = main_of(text(client, SETTINGS_URL))
    assert "Sage Accounting is not set up yet." in main
    assert "<input" not in main


# The checklist after sign-in.


def test_sign_in_lands_on_the_checklist_of_an_empty_organization(client, org_a):
    from tests.common.factories import PASSWORD

    response = client.post(
        reverse("account_login"), {"login": org_a.admin.email, "password": PASSWORD}, follow=True
    )

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == COMPANIES_URL
    assert 'data-testid="setup-checklist"' in page
    assert "No companies yet." not in page
    assert (
        reverse("integrations:integration_settings")
        in page.split('data-testid="checklist-set-up"')[1]
    )


def test_the_checklist_ticks_off_what_is_done(admin_client, org_a, setup_sage):
    setup_sage(org_a, enable=False)
    page = text(admin_client, COMPANIES_URL)
    assert "checklist__item--done" in page.split('data-testid="checklist-set-up"')[0][-200:]
    enable_item = page.split('data-testid="checklist-enable"')[1].split("</li>")[0]
    # The next thing to do: Enable opens the page that enables (and asks, if it must).
    enable_url = reverse("integrations:integration_enable")
    assert f'href="{enable_url}"' in enable_item
    enabled = admin_client.post(enable_url, {"confirmed": ""})
    assert enabled["Location"] == LIST_URL
    assert Integration.objects.get(organization=org_a).enabled


def test_no_checklist_once_there_are_companies(
    admin_client, client, org_a, org_b, setup_sage, make_company
):
    setup_sage(org_a)
    make_company(org_a)

    page = text(admin_client, COMPANIES_URL)

    assert 'data-testid="setup-checklist"' not in page
    assert 'data-testid="companies"' in page
    # Another organization, with nothing: its own checklist, whatever org_a has.
    other = Client()
    other.force_login(org_b.admin)
    assert 'data-testid="setup-checklist"' in text(other, COMPANIES_URL)


def test_a_search_with_no_match_is_not_the_checklist(admin_client, org_a, make_company):
    make_company(org_a)
    page = text(admin_client, COMPANIES_URL + "?q=zzz")
    assert 'data-testid="setup-checklist"' not in page


def test_members_see_the_checklist_without_actions(member_client):
    page = text(member_client, COMPANIES_URL)
    checklist = page.split('data-testid="setup-checklist"')[1].split("</section>")[0]
    assert "Only admins can do these steps." in checklist
    assert reverse("integrations:integration_settings") not in checklist


def test_the_checklist_in_french(admin_client):
    admin_client.post(reverse("set_language"), {"language": "fr"})
    page = text(admin_client, COMPANIES_URL)
    assert "Configurer Sage Accounting" in page
