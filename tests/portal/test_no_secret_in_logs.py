"""The whole link flow and a refresh, with DEBUG logging on, leave no secret in the logs.

The secrets are planted (client secret) or issued by the sandbox (codes,
tokens) and then looked for in everything the logging system captured, and in
the error report of a token exchange that raises with debug off.
"""

import logging
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse
from django.views.debug import get_exception_reporter_class, get_exception_reporter_filter

from integrations.connections.errors import RefreshFailed
from integrations.connections.lifecycle import connection_unlink
from integrations.connections.refresh import connection_refresh
from integrations.linking.session import BROWSER_KEY
from integrations.models import (
    AuthorizationRequest,
    Connection,
)
from tests.common.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db

PLANTED = "pl4nted-unredacted-check-0123456789"
NOISY_LOGGERS = ("oauthlib", "requests_oauthlib", "urllib3", "django", "integrations", "portal")


@pytest.fixture
def company(org_a, sage_sandbox, make_integration, make_credential_set, make_company):
    make_credential_set(make_integration(org_a), sage_sandbox)
    return make_company(org_a, "Acme Ltd")


def start_link(client, company) -> dict:
    """Walk the customer's pages up to Sage; return the authorize URL's query."""
    assert client.get(reverse("integrations:link", args=[company.link_token])).status_code == 200
    response = client.post(
        reverse("integrations:link_country", args=[company.link_token, "sage"]), {"country": "GB"}
    )
    assert response.status_code == HTTPStatus.FOUND
    return dict(parse_qsl(urlsplit(response["Location"]).query))


def callback_path(sandbox, query) -> tuple[str, str]:
    """Approve at the sandbox; return the callback path (with code and state) and the code."""
    redirect = urlsplit(sandbox.approve(query, country="GB"))
    return f"{redirect.path}?{redirect.query}", dict(parse_qsl(redirect.query))["code"]


def secrets_of(connection: Connection) -> list[str]:
    connection.refresh_from_db()
    return [connection.access_token, connection.refresh_token]


def assert_absent(secrets: list[str], text: str):
    for secret in secrets:
        assert secret, "a planted secret is empty: the test would prove nothing"
        assert secret not in text


@pytest.mark.parametrize("debug", ["root", "every logger"])
def test_link_and_refresh_with_debug_logging_leak_nothing(
    client, org_a, company, sage_sandbox, caplog, debug
):
    caplog.set_level(logging.DEBUG)
    if debug == "every logger":
        # Worse than LOG_LEVEL=DEBUG: someone also lowered the pinned OAuth loggers.
        for name in NOISY_LOGGERS:
            caplog.set_level(logging.DEBUG, logger=name)

    path, code = callback_path(sage_sandbox, start_link(client, company))
    planted = [CLIENT_SECRET, code, client.session[BROWSER_KEY]]
    planted.append(AuthorizationRequest.objects.get().code_verifier)
    response = client.get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert client.get(response["Location"]).status_code == HTTPStatus.OK

    connection = Connection.objects.get(company=company)
    assert connection.status == Connection.Status.LINKED
    planted += secrets_of(connection)

    # The company page reads live data with the access token (Authorization: Bearer).
    client.force_login(org_a.admin)
    page = client.get(reverse("integrations:company_detail", args=[company.pk]))
    assert page.status_code == HTTPStatus.OK

    sage_sandbox.expire_access_tokens()
    Connection.objects.filter(pk=connection.pk).update(access_token_expires_at=None)
    connection_refresh(connection=connection)
    refreshed = secrets_of(connection)
    assert refreshed[0] not in planted  # a real refresh happened
    planted += refreshed

    logged = "\n".join(
        [caplog.text] + [f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records]
    )
    assert_absent(planted, logged)
    oauth_records = [r for r in caplog.records if r.name.startswith("requests_oauthlib")]
    if debug == "every logger":
        # The libraries did log the request and token bodies, masked.
        assert oauth_records
        assert "client_secret=[redacted]" in logged
        assert "'access_token': '[redacted]'" in logged
    else:
        assert oauth_records == []


def test_token_exchange_raising_reports_no_secret(
    client, company, sage_sandbox, settings, caplog, mailoutbox
):
    settings.ADMINS = ["ops@portal.example"]
    client.raise_request_exception = False
    path, code = callback_path(sage_sandbox, start_link(client, company))
    verifier = AuthorizationRequest.objects.get().code_verifier
    # A token URL the client refuses to call: the exchange raises, unexpectedly for the view.
    settings.SAGE_TOKEN_URL = "ftp://127.0.0.1/token"

    response = client.get(path)

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert b"Traceback" not in response.content
    planted = [CLIENT_SECRET, code, verifier, client.session[BROWSER_KEY]]
    assert_absent(planted, response.content.decode())
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    reporter = get_exception_reporter_class(record.request)(
        record.request, *record.exc_info, is_email=True
    )
    html, text = reporter.get_traceback_html(), reporter.get_traceback_text()
    assert "ImproperlyConfigured" in text
    assert "link_complete" in html  # the report does show the frames, with their variables
    assert_absent(planted, html)
    assert_absent(planted, text)
    assert_absent(planted, caplog.text)
    (mail,) = mailoutbox
    assert "ImproperlyConfigured" in mail.body
    assert_absent(planted, mail.body)


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        (
            "integrations:integration_settings",
            {"credential_type": "3.1", "v31-client_id": "id", "v31-client_secret": CLIENT_SECRET},
        ),
        ("account_login", {"login": "admin@alphaltd.example", "password": CLIENT_SECRET}),
        (
            "account_change_password",
            {"oldpassword": CLIENT_SECRET, "password1": CLIENT_SECRET, "password2": "x"},
        ),
    ],
)
def test_posted_secrets_are_hidden_from_error_reports(admin_client, url_name, data):
    response = admin_client.post(reverse(url_name), data)
    request = response.wsgi_request
    posted = dict(get_exception_reporter_filter(request).get_post_parameters(request))
    assert posted, "the view saw no POST data"
    assert CLIENT_SECRET not in str(posted)


class _Collect(logging.Handler):
    """Keep every record's final text, as a handler without the redaction filter sees it."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record):
        self.texts.append(f"{record.getMessage()} {self.format(record)} {record.exc_text or ''}")


@pytest.fixture
def unredacted_logs():
    """Everything our own code logs at DEBUG, with the redaction switched off.

    The redaction works at two points: the log record factory that
    `RedactSecretsFilter` installs (records are masked when created) and the filter
    on the configured handlers. Both are taken away here: the stdlib factory, and a
    root logger whose only handler is this plain one. The libraries' loggers keep
    their pinned levels: what is tested is what our code chooses to log.
    """
    root = logging.getLogger()
    factory, handlers, level = logging.getLogRecordFactory(), root.handlers[:], root.level
    collect = _Collect()
    logging.setLogRecordFactory(logging.LogRecord)
    root.handlers = [collect]
    root.setLevel(logging.DEBUG)
    try:
        logging.getLogger("integrations").info("access_token=%s", PLANTED)
        assert any(PLANTED in text for text in collect.texts), "redaction is still on"
        collect.texts.clear()
        yield collect.texts
    finally:
        logging.setLogRecordFactory(factory)
        root.handlers, root.level = handlers, level


def test_our_oauth_code_logs_no_token_body_even_without_redaction(
    client, org_a, company, sage_sandbox, unredacted_logs
):
    # Redaction is the second line of defence: the first is that our code never
    # logs a token response, a code, a verifier or a secret in the first place.
    path, code = callback_path(sage_sandbox, start_link(client, company))
    planted = [CLIENT_SECRET, code, AuthorizationRequest.objects.get().code_verifier]
    assert client.get(path).status_code == HTTPStatus.FOUND
    connection = Connection.objects.get(company=company)
    assert connection.status == Connection.Status.LINKED
    planted += secrets_of(connection)

    sage_sandbox.expire_access_tokens()
    Connection.objects.filter(pk=connection.pk).update(access_token_expires_at=None)
    connection_refresh(connection=connection)
    planted += secrets_of(connection)
    sage_sandbox.fail_next("token", "status_500")
    Connection.objects.filter(pk=connection.pk).update(access_token_expires_at=None)
    with pytest.raises(RefreshFailed):
        connection_refresh(connection=connection)
    assert connection_unlink(connection=connection, actor=org_a.admin).revoked

    logged = "\n".join(unredacted_logs)
    # The capture did see our code's records.
    assert "Refreshed connection" in logged
    assert "failed: unavailable" in logged
    assert_absent(planted, logged)
