"""The OAuth callback view, against the Sage sandbox over HTTP."""

import base64
import hashlib
import threading
import time
from dataclasses import FrozenInstanceError
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from django.db import connection as db
from django.urls import reverse
from django.utils import timezone

from integrations.configuration.services import credentials_save, integration_disable
from integrations.linking.callback import Result, link_complete
from integrations.linking.services import BadState, authorization_consume, browser_binding
from integrations.linking.session import BROWSER_KEY
from integrations.models import AuthorizationRequest, Connection, HistoryEvent
from integrations.sage.versions import ApiVersion
from tests.common.db_faults import needs_postgres
from tests.common.factories import CLIENT_SECRET
from tests.linking.link_flow import authorize_query, callback_path

pytestmark = pytest.mark.django_db

CALLBACK = reverse("integrations:oauth_callback")


@pytest.fixture
def company(org_a, sage_sandbox, make_company, setup_sage):
    setup_sage(org_a)
    return make_company(org_a)


def approve(client, sandbox, company, country="GB"):
    """Walk the link pages, approve at the sandbox, and return the callback response."""
    query = authorize_query(client, company, country)
    return client.get(callback_path(sandbox.approve(query, country=country)))


def raw_tokens(connection_pk) -> tuple[str, str]:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM integrations_connection WHERE id = %s",
            [connection_pk.hex if db.vendor == "sqlite" else connection_pk],
        )
        return cursor.fetchone()


def test_one_business_links_at_once(client, company, sage_sandbox):
    response = approve(client, sage_sandbox, company)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("integrations:link_done")
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    connection = Connection.objects.get(company=company)
    assert connection.status == Connection.Status.LINKED
    assert connection.country == "GB"
    assert connection.business_id == sage_sandbox.businesses[0]["id"]
    assert connection.access_token
    assert connection.refresh_token
    stored_access, stored_refresh = raw_tokens(connection.pk)
    assert connection.access_token not in stored_access
    assert connection.refresh_token not in stored_refresh
    assert HistoryEvent.objects.filter(company=company, kind=HistoryEvent.Kind.LINKED).exists()

    done = client.get(response["Location"])
    assert done.status_code == HTTPStatus.OK
    assert "no-store" in done["Cache-Control"]
    assert b"is now linked" in done.content


def test_a_linked_callback_runs_a_bounded_number_of_queries(
    client, company, sage_sandbox, django_assert_max_num_queries
):
    # About eleven today: the session; the state check and the conditional UPDATE
    # that consumes it; the link's transaction (lock, UPDATE, history row); the
    # session write. The ceiling leaves headroom: it catches a query per row, not
    # one more lookup.
    query = authorize_query(client, company)
    path = callback_path(sage_sandbox.approve(query))

    with django_assert_max_num_queries(16):
        response = client.get(path)

    assert response["Location"] == reverse("integrations:link_done")
    assert Connection.objects.get(company=company).status == Connection.Status.LINKED


def test_several_businesses_are_offered_then_the_chosen_one_is_linked(
    client, company, sage_sandbox
):
    businesses = sage_sandbox.set_businesses(2)
    response = approve(client, sage_sandbox, company)

    assert response["Location"] == reverse("integrations:link_business")
    connection = Connection.objects.get(company=company)
    assert connection.status == Connection.Status.PENDING_AUTH
    page = client.get(response["Location"])
    for business in businesses:
        assert business["displayed_as"].encode() in page.content

    chosen = client.post(response["Location"], {"business": businesses[1]["id"]})
    assert chosen["Location"] == reverse("integrations:link_done")
    connection.refresh_from_db()
    assert connection.status == Connection.Status.LINKED
    assert connection.business_id == businesses[1]["id"]


def test_a_business_not_offered_is_refused(client, company, sage_sandbox):
    sage_sandbox.set_businesses(2)
    response = approve(client, sage_sandbox, company)
    page = client.post(response["Location"], {"business": "f" * 32})
    assert page.status_code == HTTPStatus.BAD_REQUEST
    assert Connection.objects.get(company=company).status == Connection.Status.PENDING_AUTH


def test_v30_uses_its_token_url_and_stores_the_resource_owner(
    client, org_a, sage_sandbox, make_company, setup_sage
):
    setup_sage(org_a, version=ApiVersion.V30)
    company = make_company(org_a)
    response = approve(client, sage_sandbox, company, country="IE")

    assert response["Location"] == reverse("integrations:link_done")
    [token_request] = sage_sandbox.token_requests()
    assert token_request.path == "/v30/token"
    connection = Connection.objects.get(company=company)
    assert connection.status == Connection.Status.LINKED
    assert connection.api_version == ApiVersion.V30
    assert connection.country == "IE"
    assert connection.resource_owner_id == sage_sandbox.businesses[0]["id"]


def test_pkce_and_the_identical_redirect_uri(client, company, sage_sandbox):
    query = authorize_query(client, company)
    client.get(callback_path(sage_sandbox.approve(query)))

    [token_request] = sage_sandbox.token_requests()
    verifier = token_request.form["code_verifier"]
    digest = hashlib.sha256(verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["code_challenge_method"] == "S256"
    assert token_request.form["redirect_uri"] == query["redirect_uri"]
    assert query["redirect_uri"] == "http://testserver" + CALLBACK
    assert token_request.form["client_secret"] == CLIENT_SECRET
    assert token_request.form["grant_type"] == "authorization_code"
    assert token_request.headers.get("Authorization") is None


def test_the_client_secret_never_appears_in_a_url(client, company, sage_sandbox):
    response = approve(client, sage_sandbox, company)
    locations = [response["Location"]]
    for request in sage_sandbox.requests:
        assert CLIENT_SECRET not in request.path
        assert CLIENT_SECRET not in str(request.query)
    assert all(CLIENT_SECRET not in location for location in locations)


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_HOST": "localhost"}, {"HTTP_X_FORWARDED_HOST": "evil.example"}],
    ids=["host", "forwarded-host"],
)
def test_a_spoofed_host_does_not_change_the_redirect_uri(client, company, sage_sandbox, headers):
    url = reverse("integrations:link_country", args=[company.link_token, "sage"])
    response = client.post(url, {"country": "GB"}, **headers)
    location = urlsplit(response["Location"])
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Foauth%2Fsage%2Fcallback%2F" in location.query


@pytest.mark.parametrize(
    "case", ["missing", "unknown", "expired", "replayed", "other-browser", "no-session"]
)
def test_a_bad_state_is_a_400_and_no_token_request(client, company, sage_sandbox, case):
    query = authorize_query(client, company)
    redirect = sage_sandbox.approve(query)
    path = callback_path(redirect)
    if case == "missing":
        path = path.replace(f"state={query['state']}", "")
    elif case == "unknown":
        path = path.replace(query["state"], "x" * 43)
    elif case == "expired":
        AuthorizationRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case == "replayed":
        client.get(path)
        sage_sandbox.reset()
    elif case == "other-browser":
        # The other browser has started a link of its own: it has a binding, not this one.
        client.cookies.clear()
        authorize_query(client, company)
    elif case == "no-session":
        # A browser that never started a link: it has no browser secret at all.
        client.cookies.clear()

    response = client.get(path)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"cannot be completed" in response.content
    assert sage_sandbox.token_requests() == []
    if case != "replayed":
        assert not Connection.objects.filter(status=Connection.Status.LINKED).exists()
        assert not AuthorizationRequest.objects.filter(consumed_at__isnull=False).exists()


def test_access_denied_shows_you_cancelled(client, company, sage_sandbox):
    query = authorize_query(client, company)
    response = client.get(callback_path(sage_sandbox.deny(query)), follow=True)

    assert response.status_code == HTTPStatus.OK
    assert b"Linking cancelled" in response.content
    assert reverse("integrations:link", args=[company.link_token]).encode() in response.content
    assert sage_sandbox.token_requests() == []
    connection = Connection.objects.get(company=company)
    assert connection.status == Connection.Status.PENDING_AUTH
    assert not connection.access_token
    assert AuthorizationRequest.objects.get().consumed_at is not None


def test_another_error_is_explained_in_our_words(client, company, sage_sandbox):
    query = authorize_query(client, company)
    evil = "<script>alert(1)</script>"
    path = f"{CALLBACK}?error=server_error&error_description={evil}&state={query['state']}"
    response = client.get(path, follow=True)

    assert b"Please try again in a few minutes" in response.content
    assert evil.encode() not in response.content
    assert b"alert(1)" not in response.content
    assert sage_sandbox.token_requests() == []


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("invalid_grant", {}),
        ("status_500", {}),
        ("html", {}),
        ("malformed_json", {}),
        ("slow", {"seconds": 3}),
    ],
)
def test_a_token_endpoint_failure_stores_nothing(client, company, sage_sandbox, kind, options):
    query = authorize_query(client, company)
    redirect = sage_sandbox.approve(query)
    sage_sandbox.fail_next("token", kind, **options)

    response = client.get(callback_path(redirect))
    assert response["Location"] == reverse("integrations:link_done")
    page = client.get(response["Location"])

    assert page.status_code == HTTPStatus.OK
    assert b"Try again" in page.content
    connection = Connection.objects.get(company=company)
    assert connection.status == Connection.Status.PENDING_AUTH
    assert connection.last_error
    assert not connection.access_token
    assert not connection.refresh_token
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.LINK_FAILED).count() == 1


def test_disabled_between_start_and_callback_is_refused(client, org_a, company, sage_sandbox):
    query = authorize_query(client, company)
    integration_disable(integration=company.organization.integrations.get(), actor=org_a.admin)

    response = client.get(callback_path(sage_sandbox.approve(query)), follow=True)

    assert b"The integration changed" in response.content
    assert sage_sandbox.token_requests() == []
    assert not Connection.objects.get(company=company).access_token


# Names that sort before and after the original client ID: a changed ID is refused either way.
@pytest.mark.parametrize("new_client_id", ["another-app", "zz-another-app"])
def test_client_id_changed_between_start_and_callback_is_refused(
    client, org_a, company, sage_sandbox, new_client_id
):
    query = authorize_query(client, company)
    credentials_save(
        organization=org_a,
        actor=org_a.admin,
        api_version=ApiVersion.V31,
        client_id=new_client_id,
    )

    response = client.get(callback_path(sage_sandbox.approve(query)), follow=True)

    assert b"The integration changed" in response.content
    assert sage_sandbox.token_requests() == []


def test_relink_keeps_the_same_connection(client, company, sage_sandbox):
    approve(client, sage_sandbox, company)
    connection = Connection.objects.get(company=company)
    Connection.objects.filter(pk=connection.pk).update(
        status=Connection.Status.DEAUTHORIZED, state=Connection.State.TOKENS_REFUSED
    )

    response = approve(client, sage_sandbox, company)

    assert response["Location"] == reverse("integrations:link_done")
    assert Connection.objects.get().pk == connection.pk
    assert Connection.objects.get().status == Connection.Status.LINKED


@pytest.mark.parametrize("case", ["api_500", "no_business"])
def test_a_businesses_failure_stores_nothing(client, company, sage_sandbox, case):
    query = authorize_query(client, company)
    redirect = sage_sandbox.approve(query)
    if case == "api_500":
        sage_sandbox.fail_next("api", "status_500")
    else:
        sage_sandbox.set_businesses(0)

    page = client.get(callback_path(redirect), follow=True)

    assert b"Try again" in page.content
    connection = Connection.objects.get(company=company)
    assert connection.status == Connection.Status.PENDING_AUTH
    assert not connection.access_token
    assert connection.last_error


@pytest.mark.parametrize("version", [ApiVersion.V31, ApiVersion.V30])
def test_a_link_finished_in_another_browser_is_kept(
    client, org_a, sage_sandbox, make_company, setup_sage, version
):
    from django.test import Client

    setup_sage(org_a, version=version)
    company = make_company(org_a)
    country = "GB" if version == ApiVersion.V31 else "IE"
    other = Client()
    first = authorize_query(client, company, country)
    second = authorize_query(other, company, country)
    client.get(callback_path(sage_sandbox.approve(first, country=country)))
    linked = Connection.objects.get(company=company)
    assert linked.status == Connection.Status.LINKED

    page = other.get(callback_path(sage_sandbox.approve(second, country=country)), follow=True)

    assert b"linked in another window" in page.content
    kept = Connection.objects.get(company=company)
    assert kept.status == Connection.Status.LINKED
    assert kept.access_token == linked.access_token
    assert kept.refresh_token == linked.refresh_token
    revoked = [r for r in sage_sandbox.requests if r.path.endswith("/revoke")]
    if version == ApiVersion.V30:
        # v3.0 has no revoke endpoint: the unused tokens expire on their own.
        assert len(sage_sandbox.token_requests()) == 2
        assert revoked == []
    else:
        assert len(revoked) == 1
        assert revoked[0].form["token"] != linked.refresh_token


@pytest.mark.parametrize("error", ["server_error", "access_denied"])
def test_an_error_with_a_valid_code_is_an_error_and_exchanges_nothing(
    client, company, sage_sandbox, error
):
    # RFC 6749, 4.1.2.1: an error response carries no code. A callback with both is
    # treated as the error it says it is; the code is never spent.
    query = authorize_query(client, company)
    path = callback_path(sage_sandbox.approve(query))
    assert "code=" in path

    response = client.get(f"{path}&error={error}", follow=True)

    expected = b"Linking cancelled" if error == "access_denied" else b"Please try again"
    assert expected in response.content
    assert sage_sandbox.token_requests() == []
    connection = Connection.objects.get(company=company)
    assert connection.status == Connection.Status.PENDING_AUTH
    assert not connection.access_token
    assert not connection.refresh_token
    assert not HistoryEvent.objects.filter(kind=HistoryEvent.Kind.LINKED).exists()
    failed = HistoryEvent.objects.get(kind=HistoryEvent.Kind.LINK_FAILED)
    assert failed.details == {"reason": error if error == "access_denied" else "provider_error"}


def _lock_waiters() -> int:
    """How many other sessions of this test database are waiting for a lock."""
    with db.cursor() as cursor:
        # The activity view is read once per transaction unless its snapshot is cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@needs_postgres(
    "SQLite has no row locks and serialises writers, so two callbacks cannot race there; "
    ".ci/run's mandatory PostgreSQL run holds the state's conditional UPDATE"
)
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_replays_of_one_callback_reach_sage_once(client, company, sage_sandbox):
    from django.db import transaction
    from django.test import Client

    query = authorize_query(client, company)
    path = callback_path(sage_sandbox.approve(query))
    # The same browser twice (a double click, a replayed request): same session, same state.
    browsers = [client, Client()]
    browsers[1].cookies = client.cookies
    barrier = threading.Barrier(2)
    statuses, errors = [], []

    def replay(browser):
        try:
            barrier.wait()
            statuses.append(browser.get(path).status_code)
        except Exception as exc:  # reported below, with the thread's own exception
            errors.append(exc)
        finally:
            db.close()

    # Hold the row so that both callbacks have read the unconsumed state before either
    # writes: then only the conditional UPDATE tells them apart, as in a real race.
    threads = [threading.Thread(target=replay, args=(b,)) for b in browsers]
    with transaction.atomic():
        AuthorizationRequest.objects.select_for_update().get(state=query["state"])
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while _lock_waiters() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _lock_waiters() == 2, "both callbacks should be waiting on the state's row"
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(statuses) == [HTTPStatus.FOUND, HTTPStatus.BAD_REQUEST]
    assert len(sage_sandbox.token_requests()) == 1
    assert Connection.objects.get(company=company).status == Connection.Status.LINKED
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.LINKED).count() == 1


@pytest.fixture
def stored_state(org_a, setup_sage, make_company, make_connection, make_authorization_request):
    """Return a factory: an authorization request with `state`, bound to the browser secret "b"."""
    _, credential_set = setup_sage(org_a)
    connection = make_connection(
        make_company(org_a), credential_set, status=Connection.Status.PENDING_AUTH
    )

    def make(state: str) -> AuthorizationRequest:
        return make_authorization_request(
            connection, state=state, browser_binding=browser_binding("b")
        )

    return make


def test_a_state_of_the_longest_stored_length_is_consumed(stored_state):
    state = "s" * AuthorizationRequest._meta.get_field("state").max_length
    stored_state(state)

    consumed = authorization_consume(state=state, browser_secret="b")

    assert consumed.state == state
    assert AuthorizationRequest.objects.get(state=state).consumed_at == consumed.consumed_at


@pytest.mark.parametrize(
    ("state", "browser_secret"),
    [
        ("s" * 65, "b"),  # longer than any stored state
        ("s" * 10_000, "b"),
        ("s" * 43, None),  # a browser without a session
        ("s" * 43, ""),
        ("", "b"),
        ("s\x00" * 10, "b"),  # PostgreSQL refuses NUL in a parameter
    ],
    ids=["65", "10000", "no-secret", "empty-secret", "empty-state", "nul"],
)
def test_a_state_that_cannot_match_is_refused_without_a_query(
    stored_state, django_assert_num_queries, state, browser_secret
):
    stored_state("s" * 43)
    with django_assert_num_queries(0), pytest.raises(BadState):
        authorization_consume(state=state, browser_secret=browser_secret)
    assert AuthorizationRequest.objects.get().consumed_at is None


@pytest.mark.parametrize(
    ("chosen", "at_sage", "reported", "stored"),
    [
        ("GB", "IE", None, "IE"),  # the country the customer picked at Sage, as Sage reports it
        ("DE", "DE", "ZZ", "DE"),  # not a country we offer: the one chosen on our page
        ("DE", "DE", "", "DE"),
    ],
)
def test_the_linked_country_is_the_one_sage_reports_when_offered(
    client, company, sage_sandbox, chosen, at_sage, reported, stored
):
    query = authorize_query(client, company, chosen)
    path = callback_path(sage_sandbox.approve(query, country=at_sage))
    if reported is not None:
        path = path.replace(f"country={at_sage}", f"country={reported}")

    assert client.get(path)["Location"] == reverse("integrations:link_done")

    assert Connection.objects.get(company=company).country == stored


def test_the_outcome_of_a_callback_is_read_only(client, company, sage_sandbox):
    query = authorize_query(client, company)
    authorization = authorization_consume(
        state=query["state"], browser_secret=client.session[BROWSER_KEY]
    )
    outcome = link_complete(authorization=authorization, params={"error": "access_denied"})

    assert outcome.result == Result.CANCELLED
    with pytest.raises(FrozenInstanceError):
        outcome.result = Result.LINKED
