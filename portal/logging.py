"""Keeping secrets out of log records and error reports.

`redact()` masks the values of tokens, authorization codes, PKCE verifiers,
client secrets, subscription keys, passwords and `Authorization` headers in any
of the shapes they take in logs: `key=value` (form bodies, query strings),
`"key": "value"` (JSON, Python reprs), `Authorization: Bearer …` and the REST
API's `Api-Key …`.

The filter redacts each record once, when it is created, so that every handler
sees the redacted text, including handlers added later (an error tracker,
pytest's caplog), and records of child loggers such as
`requests_oauthlib.oauth2_session` that a logger-level filter would miss.
"""

import logging
import re
from collections.abc import Callable, ItemsView
from types import TracebackType
from typing import Any

from django.http import HttpRequest
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

REDACTED = "[redacted]"
SECRET_NAMES = (
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "signing_secret",
    "subscription_key",
    "ocp-apim-subscription-key",
    "code_verifier",
    "code",
    "token",
    "password",
    "secret",
    "x-signature",
    "api_key",
    "api-key",
)
_NAMES = "|".join(re.escape(name) for name in sorted(SECRET_NAMES, key=len, reverse=True))
# A name must not continue a longer word ("status_code", "barcode" are not secrets).
_EDGE = r"(?<![A-Za-z0-9_$-])"
_QUOTE = r"\\?['\"]?"
_VALUE = r"[^\s&'\",;})\]\\]+"
_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # Authorization headers, with or without a scheme, in any rendering.
    (
        re.compile(
            rf"(?i)({_EDGE}(?:proxy-)?authorization{_QUOTE}\s*[:=]\s*{_QUOTE})"
            rf"(?:(bearer|basic|token|api-key)\s+)?{_VALUE}"
        ),
        lambda m: f"{m.group(1)}{m.group(2) + ' ' if m.group(2) else ''}{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    # The REST API's keys (`Api-Key <prefix>.<secret>`), wherever the header shows up.
    (re.compile(r"(?i)\b(api-key)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    # An invitation's link (Django logs the path of a 404 or 410: a wrong or used link).
    (re.compile(r"(/invitations/)(?!accept/)[A-Za-z0-9_-]{8,}"), rf"\1{REDACTED}"),
    # key=value, key: value, "key": "value" for the names of our secrets.
    (
        re.compile(rf"(?i)({_EDGE}(?:{_NAMES}){_QUOTE}\s*[:=]\s*\[?\s*b?{_QUOTE}){_VALUE}"),
        rf"\1{REDACTED}",
    ),
]
SENSITIVE_META = ("QUERY_STRING", "REQUEST_URI", "RAW_URI")


def redact(text: str) -> str:
    """Return `text` with the values of secrets replaced by [redacted]."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record's message, traceback and stack in place; return it."""
    if getattr(record, "_redacted", False):
        return record
    record._redacted = True
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken record is left for logging to report
        return record
    redacted = redact(message)
    if redacted != message:
        record.msg, record.args = redacted, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


_installed = False


def install_record_redaction() -> None:
    """Wrap the log record factory so that every record is redacted when created."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(make_record(*args, **kwargs))

    logging.setLogRecordFactory(redacting_factory)
    _installed = True


class RedactSecretsFilter(logging.Filter):
    """Redact each record passing through; creating one also redacts records at creation."""

    def __init__(self, name: str = ""):
        super().__init__(name)
        install_record_redaction()

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class RedactingExceptionReporterFilter(SafeExceptionReporterFilter):
    """Also hide variables named like secrets and the query string (it carries the code)."""

    hidden_settings = re.compile(
        rf"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|{'|'.join(SENSITIVE_META)}",
        flags=re.IGNORECASE,
    )
    hidden_variables = re.compile(rf"(?i)^(?:{_NAMES}|.*(?:token|secret|verifier|password).*)$")

    def get_traceback_frame_variables(
        self, request: HttpRequest | None, tb_frame: TracebackType
    ) -> ItemsView[str, Any]:
        return {
            name: self.cleansed_substitute if self.hidden_variables.match(name) else value
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        }.items()


class RedactingExceptionReporter(ExceptionReporter):
    """Error reports (500 emails, logs) with the callback's code and secret shapes redacted."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        for frame in data["frames"]:
            if "vars" in frame:
                frame["vars"] = [(name, redact(value)) for name, value in frame["vars"]]
        if "request_GET_items" in data:
            data["request_GET_items"] = [
                (key, REDACTED if key.lower() in SECRET_NAMES else redact(value))
                for key, value in data["request_GET_items"]
            ]
            data["request_insecure_uri"] = redact(data["request_insecure_uri"])
        if "exception_value" in data:
            data["exception_value"] = redact(str(data["exception_value"]))
        return data
