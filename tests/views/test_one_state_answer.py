"""One answer about a connection's state: every state driven through the company page, the
companies list and the REST API, which must agree on its word and on every action."""

import html as html_module
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from integrations.connections.states import Action, State
from integrations.models import Company, Connection, HistoryEvent
from tests.linking.link_flow import authorize_query, callback_path, exchange_through_sandbox

pytestmark = pytest.mark.django_db

S, K = Connection.Status, HistoryEvent.Kind
TOKENS = {
    "access_token": "access",
    "refresh_token": "refresh",
    "access_token_expires_at": timezone.now() + timedelta(minutes=5),
}
# Each state: the connection's status and columns (None: no connection), and its last event
# (the writers drive each state for real in tests/connections/test_stored_state.py).
STATES = {
    State.NOT_LINKED: (None, {}, None),
    State.WAITING: (S.PENDING_AUTH, {}, None),
    State.CHOOSING_BUSINESS: (S.PENDING_AUTH, TOKENS, None),
    State.CANCELLED: (S.PENDING_AUTH, {}, (K.LINK_FAILED, {"reason": "access_denied"})),
    State.LINK_FAILED: (S.PENDING_AUTH, {}, (K.LINK_FAILED, {"reason": "invalid_grant"})),
    State.LINKED: (S.LINKED, {**TOKENS, "business_name": "Bakery SARL"}, (K.LINKED, {})),
    State.RELINK_REQUESTED: (S.DEAUTHORIZED, {}, (K.MARKED_FOR_RELINK, {"reason": "support"})),
    State.TOKENS_REFUSED: (S.DEAUTHORIZED, {}, (K.DEAUTHORIZED, {"reason": "invalid_grant"})),
    State.UNLINKED: (S.UNLINKED, {"business_name": "Bakery SARL"}, (K.UNLINKED, {})),
}
ACTIONS_ON_THE_PAGE = {Action.UNLINK, Action.SEND_LINK_URL}


@pytest.fixture
def api_a(org_a, make_api_key, api_client):
    return api_client(make_api_key(org_a)[1])


@pytest.fixture
def company_in(org_a, setup_sage, make_company, make_connection, sage_sandbox):
    _integration, credential_set = setup_sage(org_a)

    def make(state: State, name: str) -> Company:
        company = make_company(org_a, name)
        status, columns, event = STATES[state]
        if status == S.LINKED:  # tokens the sandbox takes: the page reads live data with them
            tokens = exchange_through_sandbox(sage_sandbox, credential_set)
            columns = {**columns, "access_token": tokens.access_token}
            columns["refresh_token"] = tokens.refresh_token
        if status is not None:
            make_connection(
                company, credential_set, status=status, state=state, country="FR", **columns
            )
        if event is not None:
            kind, details = event
            HistoryEvent.objects.create(
                organization=org_a, company=company, kind=kind, details=details
            )
        return Company.objects.get(pk=company.pk)

    return make


def _page(admin_client, company, language="en"):
    url = reverse("integrations:company_detail", args=[company.pk])
    html = admin_client.get(url, headers={"accept-language": language}).content.decode()
    state = re.search(r'data-state="(\w+)" data-testid="connection-status">([^<]+)<', html)
    actions = set(re.findall(r'data-action="(\w+)"', html))
    return state.group(1), html_module.unescape(state.group(2)), actions, html


def _list(admin_client, company, language="en"):
    html = admin_client.get(
        reverse("integrations:company_list"), headers={"accept-language": language}
    ).content.decode()
    row = html[html.index(f">{company.name}</a>") :]
    found = re.search(r'data-state="(\w+)">([^<]+)<', row)
    return found.group(1), html_module.unescape(found.group(2))


@pytest.mark.parametrize("state", list(State))
def test_the_page_the_list_and_the_api_agree_on_the_state_and_every_action(
    state, admin_client, api_a, company_in
):
    company = company_in(state, f"Company {state.value}")
    page_state, page_word, page_actions, _html = _page(admin_client, company)
    list_state, list_word = _list(admin_client, company)
    api_company = api_a.get(f"/api/v1/companies/{company.pk}").json()
    api_connection = api_a.get(f"/api/v1/companies/{company.pk}/connection")

    assert page_state == list_state == api_company["state"] == state.value
    with translation.override("en"):
        assert page_word == list_word == str(state.label)
    if state == State.NOT_LINKED:
        assert api_connection.status_code == 404
        assert page_actions == {Action.SEND_LINK_URL}
        return
    api_actions = set(api_connection.json()["actions"])
    assert api_connection.json()["state"] == state.value
    assert page_actions == api_actions & ACTIONS_ON_THE_PAGE

    # What is offered works, and what is not offered is refused, on both sides.
    twin = company_in(state, f"Twin {state.value}")
    by_api = api_a.post(f"/api/v1/companies/{company.pk}/connection/unlink")
    unlink_page = reverse("integrations:connection_unlink", args=[twin.pk])
    admin_client.post(unlink_page)
    page_unlinked = Connection.objects.get(company=twin).status == S.UNLINKED
    offered = Action.UNLINK in api_actions
    # An unlinked company stays unlinked: the API says so again (idempotent), the page too.
    assert (by_api.status_code == 200) is (offered or state == State.UNLINKED)
    assert page_unlinked is (offered or state == State.UNLINKED)


def test_a_connection_waiting_for_the_business_choice_can_be_unlinked_on_both_sides(
    admin_client, api_a, company_in
):
    company = company_in(State.CHOOSING_BUSINESS, "Choosy Ltd")

    _state, _word, actions, _html = _page(admin_client, company)
    connection = api_a.get(f"/api/v1/companies/{company.pk}/connection").json()

    assert Action.UNLINK in actions
    assert Action.UNLINK in connection["actions"]


@pytest.mark.parametrize("state", list(State))
def test_each_state_has_one_word_in_french_too(state, admin_client, company_in):
    company = company_in(state, f"Société {state.value}")

    _state, page_word, _actions, _html = _page(admin_client, company, "fr")
    _state, list_word = _list(admin_client, company, "fr")

    with translation.override("fr"):
        assert page_word == list_word == str(state.label)
    with translation.override("en"):
        english = str(state.label)
    assert page_word != english


def test_a_cancel_reads_cancelled_everywhere_and_names_the_customer(
    admin_client, api_a, client, org_a, sage_sandbox, setup_sage, make_company
):
    setup_sage(org_a)
    company = make_company(org_a, "Shy Ltd")
    client.get(callback_path(sage_sandbox.deny(authorize_query(client, company))))

    state, word, _actions, html = _page(admin_client, company)
    list_state, list_word = _list(admin_client, company)
    api_state = api_a.get(f"/api/v1/companies/{company.pk}").json()["state"]
    french = html_module.unescape(_page(admin_client, company, "fr")[3])

    assert (state, word) == (list_state, list_word) == ("cancelled", "Cancelled")
    assert api_state == "cancelled"
    assert "Pending authorization" not in html
    history = html[html.index('data-testid="history"') :]
    assert "<strong>Cancelled</strong>" in history
    assert "the customer, through the link URL" in history
    assert ">system<" not in history
    assert "<strong>Annulé</strong>" in french
    assert "le client, par l'URL de liaison" in french


def test_after_an_unlink_the_business_reads_as_previously_linked(admin_client, api_a, company_in):
    company = company_in(State.UNLINKED, "Gone Ltd")
    Connection.objects.filter(company=company).update(last_refreshed_at=timezone.now())

    _state, _word, _actions, html = _page(admin_client, company)
    row = admin_client.get(reverse("integrations:company_list")).content.decode()

    assert "Previously linked to Bakery SARL (France)." in html
    assert "Last refresh</dt>" not in html
    assert "Previously linked to Bakery SARL." in row


def test_the_list_needs_attention_where_the_api_does(admin_client, api_a, company_in):
    expiring = company_in(State.LINKED, "Expiring Ltd")
    Connection.objects.filter(company=expiring).update(
        refresh_token_expires_at=timezone.now() + timedelta(days=1)
    )
    failed = company_in(State.LINK_FAILED, "Failed Ltd")
    cancelled = company_in(State.CANCELLED, "Cancelled Ltd")

    html = admin_client.get(reverse("integrations:company_list")).content.decode()

    for company, warning, api_warning in (
        (expiring, "Authorization expires soon", "refresh_expires_soon"),
        (failed, "Needs attention", "link_failed"),  # the word "Link failed" says why
        (cancelled, None, None),
    ):
        connection = api_a.get(f"/api/v1/companies/{company.pk}/connection").json()
        row = html[html.index(f">{company.name}</a>") :].split("</tr>")[0]
        assert connection["health"]["warning"] is (warning is not None)
        assert connection["warnings"] == ([api_warning] if api_warning else [])
        assert ("badge--attention" in row) is (warning is not None)
        if warning:
            assert warning in row


def test_the_api_list_says_each_state_without_a_query_per_company(api_a, company_in):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(db) as captured:
            body = api_a.get("/api/v1/companies").json()
        assert {c["name"]: c["state"] for c in body["results"]}
        return len(captured)

    for state in (State.CANCELLED, State.LINKED):
        company_in(state, f"First {state.value}")
    queries()  # the key's first use is recorded once: not part of the count
    few = queries()
    for state in State:
        company_in(state, f"More {state.value}")

    assert queries() == few


def test_the_webhooks_say_the_state_in_the_same_word_as_the_api(
    org_a,
    api_a,
    client,
    sage_sandbox,
    setup_sage,
    make_company,
    make_endpoint,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    import json

    setup_sage(org_a)
    make_endpoint(org_a, webhook_receiver.url)
    shy, keen = make_company(org_a, "Shy Ltd"), make_company(org_a, "Keen Ltd")
    with django_capture_on_commit_callbacks(execute=True):
        client.get(callback_path(sage_sandbox.deny(authorize_query(client, shy))))
        client.get(callback_path(sage_sandbox.approve(authorize_query(client, keen))))
        api_a.post(f"/api/v1/companies/{keen.pk}/connection/unlink")

    sent = [json.loads(r.body) for r in webhook_receiver.requests]
    states = [(m["type"], m["data"]["connection"]["state"]) for m in sent]
    # The link also queues a sync (issue 19); it ran after the unlink, so it stopped,
    # and its event says the state in the same word.
    syncs = [pair for pair in states if pair[0].startswith(("sync.", "data."))]

    assert [pair for pair in states if pair not in syncs] == [
        ("link.failed", "cancelled"),
        ("connection.linked", "linked"),
        ("connection.unlinked", "unlinked"),
    ]
    assert syncs == [("sync.completed", "unlinked")]
    assert api_a.get(f"/api/v1/companies/{shy.pk}").json()["state"] == "cancelled"
