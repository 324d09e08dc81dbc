"""The redaction filter and the error reporter keep secrets out of logs and reports."""

import logging
import sys

import pytest
from django.test import RequestFactory
from django.views.debug import get_exception_reporter_class, get_exception_reporter_filter

from portal.logging import (
    REDACTED,
    RedactingExceptionReporter,
    RedactingExceptionReporterFilter,
    RedactSecretsFilter,
    redact,
)

SECRET = "pl4nted-S3cret_value.0123456789"


@pytest.mark.parametrize(
    "text",
    [
        f"Request body was grant_type=authorization_code&code=GB%2F{SECRET}&client_id=abc",
        f"Request body was client_id=abc&client_secret={SECRET}&code_verifier=v",
        f"body client_id=abc&code_verifier={SECRET}",
        f'Response headers were {{}} and content {{"access_token": "{SECRET}", "x": 1}}.',
        f"Obtained token {{'access_token': 'a', 'refresh_token': '{SECRET}', 'expires_in': 300}}.",
        f"Supplying headers {{'Authorization': 'Bearer {SECRET}'}} and data None",
        f"Authorization: Basic {SECRET}",
        f"authorization={SECRET}",
        f"Ocp-Apim-Subscription-Key: {SECRET}",
        f"X-Signature: {SECRET}",
        f"subscription_key='{SECRET}'",
        f"signing_secret: {SECRET}",
        f'b\'{{"refresh_token":"{SECRET}"}}\'',
        f'{{\\"client_secret\\": \\"{SECRET}\\"}}',
        f"GET /oauth/sage/callback/?code={SECRET}&state=abc",
        f"password={SECRET}",
        f"token={SECRET}",
        f"refreshing with bearer {SECRET}",
        f"<QueryDict: {{'code': ['GB/{SECRET}'], 'state': ['abc']}}>",
        f"{{'refresh_token': [b'{SECRET}']}}",
        # The REST API's keys, in the header and wherever its value is quoted.
        f"Authorization: Api-Key {SECRET}",
        f"{{'HTTP_AUTHORIZATION': 'Api-Key {SECRET}'}}",
        f"sent Api-Key {SECRET} again",
        f"api_key={SECRET}",
    ],
)
def test_redact_masks_every_shape_of_secret(text):
    redacted = redact(text)
    assert SECRET not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize(
    "text",
    [
        "Request to fetch token completed with status 200.",
        "status_code=400 error_code=invalid_grant",
        "barcode=12345 postcode=AB1",
        "Linked Acme Ltd (GB) with API v3.1",
        '{"$dataCode": "RecordNotFound", "$message": "Not found"}',
        "API key created · prefix abcd1234",
    ],
)
def test_redact_leaves_ordinary_text_alone(text):
    assert redact(text) == text


def test_records_of_any_logger_are_redacted_when_created(caplog):
    # A child logger of requests_oauthlib, at DEBUG: what it logs about a token request.
    caplog.set_level(logging.DEBUG, logger="requests_oauthlib")
    logger = logging.getLogger("requests_oauthlib.oauth2_session")
    logger.debug("Request body was %s", f"code=GB%2F{SECRET}&client_secret={SECRET}")
    logger.debug("Obtained token %s.", {"access_token": SECRET, "refresh_token": SECRET})
    assert len(caplog.records) == 2
    assert SECRET not in caplog.text
    assert "client_secret=[redacted]" in caplog.text


def test_tracebacks_in_records_are_redacted(caplog):
    logger = logging.getLogger("integrations.test")
    try:
        raise ValueError(f"token endpoint said access_token={SECRET}")
    except ValueError:
        logger.exception("Token exchange failed")
    assert "ValueError" in caplog.text
    assert SECRET not in caplog.text


def test_filter_redacts_a_record_made_elsewhere():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "headers %s", ({"Authorization": f"Bearer {SECRET}"},), None
    )
    assert RedactSecretsFilter().filter(record) is True
    assert SECRET not in record.getMessage()


def test_oauth_libraries_stay_quiet_below_warning():
    for name in ("oauthlib", "requests_oauthlib", "urllib3"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name


def test_settings_use_the_redacting_reporter():
    request = RequestFactory().get("/")
    assert get_exception_reporter_class(request) is RedactingExceptionReporter
    assert isinstance(get_exception_reporter_filter(request), RedactingExceptionReporterFilter)


def _explode(client_secret, refresh_token_value, body):
    note = f"refresh_token={refresh_token_value}"  # noqa: F841 - shown in the report's frame
    raise RuntimeError(f"Sage answered {body}")


@pytest.mark.parametrize("kind", ["text", "html"])
def test_error_report_hides_secrets(kind):
    request = RequestFactory().get(f"/oauth/sage/callback/?code=GB%2F{SECRET}&state=st4te")
    try:
        _explode(SECRET, SECRET, f'{{"access_token": "{SECRET}"}}')
    except RuntimeError:
        reporter = RedactingExceptionReporter(request, *sys.exc_info(), is_email=True)
    report = reporter.get_traceback_text() if kind == "text" else reporter.get_traceback_html()
    assert "RuntimeError" in report
    assert "_explode" in report
    assert SECRET not in report
