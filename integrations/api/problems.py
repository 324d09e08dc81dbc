"""RFC 9457 problem details: the one shape of every error the API answers.

`{"type", "title", "status", "detail", "code"}`, with `errors` (`[{"field", "detail"}]`)
for invalid input, served as `application/problem+json`. `code` is stable and
machine-readable (one of `Code`, documented in the schema and the README); `detail`
is a sentence for people and may change.
"""

import logging
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"


class Code(StrEnum):
    """Every problem's `code`: a client branches on these, never on `detail`."""

    INVALID_REQUEST = "invalid_request"  # 400: see `errors`, one per field
    MALFORMED_BODY = "malformed_body"  # 400: not JSON, or nested too deeply
    API_KEY_REQUIRED = "api_key_required"  # 401: missing, unknown, revoked or expired key
    FORBIDDEN = "forbidden"  # 403
    NOT_FOUND = "not_found"  # 404: no such path, or no such object of this organization
    METHOD_NOT_ALLOWED = "method_not_allowed"  # 405
    NOT_ACCEPTABLE = "not_acceptable"  # 406: the API answers JSON only
    CONFLICT = "conflict"  # 409
    EXTERNAL_ID_TAKEN = "external_id_taken"  # 409: another company has this external_id
    NOT_LINKED = "not_linked"  # 409: the company has no linked connection to unlink or sync
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"  # 409: the first request still runs
    ENDPOINT_DISABLED = "endpoint_disabled"  # 409: enable the webhook endpoint first
    DELIVERY_PENDING = "delivery_pending"  # 409: the delivery's next attempt is planned
    BODY_TOO_LARGE = "body_too_large"  # 413
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"  # 415: send application/json
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"  # 422: same key, another request
    RATE_LIMITED = "rate_limited"  # 429: this key's requests; see Retry-After
    TOO_MANY_FAILED_ATTEMPTS = "too_many_failed_attempts"  # 429: wrong keys; see Retry-After
    SERVER_ERROR = "server_error"  # 500
    BAD_GATEWAY = "bad_gateway"  # 502: Sage answered what cannot be passed on
    UNAVAILABLE = "unavailable"  # 503: Sage unreachable or the connection busy; retry
    # The Sage proxy's own (integrations/api/views.py SageProxy).
    SAGE_ERROR = "sage_error"  # Sage refused or failed: Sage's status, its answer in `sage`
    SAGE_BUSY = "sage_busy"  # 429: too many Sage requests under way; see Retry-After
    RESOURCE_NOT_ALLOWED = "resource_not_allowed"  # 404: not a Sage resource this API reads
    # The synced data's own (integrations/api/sync_views.py).
    UNKNOWN_DATA_TYPE = "unknown_data_type"  # 404: not a synced data type; `types` lists them
    SAGE_ANSWER_TOO_LARGE = "sage_answer_too_large"  # 502


# DRF's exceptions, and ours, by the code they answer with unless they name one.
_CODES: dict[type[exceptions.APIException], Code] = {
    exceptions.ValidationError: Code.INVALID_REQUEST,
    exceptions.ParseError: Code.MALFORMED_BODY,
    exceptions.NotAuthenticated: Code.API_KEY_REQUIRED,
    exceptions.AuthenticationFailed: Code.API_KEY_REQUIRED,
    exceptions.PermissionDenied: Code.FORBIDDEN,
    exceptions.NotFound: Code.NOT_FOUND,
    exceptions.MethodNotAllowed: Code.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: Code.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: Code.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: Code.RATE_LIMITED,
}


class BodyTooLarge(exceptions.APIException):
    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    problem_code = Code.BODY_TOO_LARGE


class Conflict(exceptions.APIException):
    """409, with members of its own (the existing company's id, say)."""

    status_code = HTTPStatus.CONFLICT

    def __init__(self, detail: str, *, code: Code = Code.CONFLICT, **extra: Any) -> None:
        super().__init__(detail)
        self.problem_code = code
        self.extra = extra


class UnknownDataType(exceptions.NotFound):
    """404: not one of the synced data types; `types` lists those there are."""

    problem_code = Code.UNKNOWN_DATA_TYPE

    def __init__(self, detail: str, *, types: list[str]) -> None:
        super().__init__(detail)
        self.extra = {"types": types}


class TooManyFailedAttempts(exceptions.Throttled):
    """429: too many wrong keys from this address, or for this key prefix."""

    problem_code = Code.TOO_MANY_FAILED_ATTEMPTS


class Unprocessable(exceptions.APIException):
    """422: understood, but cannot be done as asked (an Idempotency-Key reused)."""

    status_code = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(self, detail: str, *, code: Code) -> None:
        super().__init__(detail)
        self.problem_code = code


class BadGateway(exceptions.APIException):
    """Sage answered something the proxy cannot pass on (a redirect, not JSON)."""

    status_code = HTTPStatus.BAD_GATEWAY


class Unavailable(exceptions.APIException):
    """Sage cannot be reached, or the connection is busy: retry later."""

    status_code = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, detail: str, *, wait: int | None = None) -> None:
        super().__init__(detail)
        self.wait = wait  # seconds: DRF's handler sends it as Retry-After


class ProxyProblem(exceptions.APIException):
    """A problem of the Sage proxy, with a stable `code` and members of its own (`sage`)."""

    def __init__(
        self, status: int, detail: str, *, code: Code | str, wait: int | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status_code = status
        self.problem_code = code
        self.wait = wait  # seconds: DRF's handler sends it as Retry-After
        self.extra = extra


def problem(
    status: int,
    detail: str,
    *,
    code: Code | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem answer; without `code`, the general one of `status`."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": str(code or code_for_status(status)),
        **extra,
    }
    return Response(body, status=status, headers=headers, content_type=CONTENT_TYPE)


def _field_errors(detail: object, prefix: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested validation errors into `[{"field", "detail"}]`."""
    if isinstance(detail, dict):
        return [
            error
            for name, value in detail.items()
            for error in _field_errors(value, f"{prefix}.{name}" if prefix else str(name))
        ]
    if isinstance(detail, list):
        return [error for value in detail for error in _field_errors(value, prefix)]
    return [{"field": prefix or "non_field_errors", "detail": str(detail)}]


def _detail(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # The same words for a missing, malformed, unknown, revoked or expired key.
        return gettext("A valid API key is required: send the header Authorization: Api-Key <key>.")
    if isinstance(exc, exceptions.ValidationError):
        return gettext("The request is not valid; see errors.")
    if isinstance(exc, TooManyFailedAttempts):
        return gettext("Too many failed API key attempts; retry after the delay in Retry-After.")
    if isinstance(exc, exceptions.Throttled):
        return gettext("Too many requests for this API key; retry after the delay in Retry-After.")
    if isinstance(exc, BodyTooLarge):
        return gettext("The request body is too large.")
    return str(exc.detail)


def code_of(exc: exceptions.APIException) -> Code:
    """The problem's `code`: the one the exception names, else its class's."""
    named = getattr(exc, "problem_code", None)
    if named is not None:
        return Code(named)
    for cls in type(exc).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return code_for_status(exc.status_code)


_GENERAL_CODES = {
    400: Code.INVALID_REQUEST,
    401: Code.API_KEY_REQUIRED,
    403: Code.FORBIDDEN,
    404: Code.NOT_FOUND,
    405: Code.METHOD_NOT_ALLOWED,
    406: Code.NOT_ACCEPTABLE,
    409: Code.CONFLICT,
    413: Code.BODY_TOO_LARGE,
    415: Code.UNSUPPORTED_MEDIA_TYPE,
    429: Code.RATE_LIMITED,
    502: Code.BAD_GATEWAY,
    503: Code.UNAVAILABLE,
}


def code_for_status(status: int) -> Code:
    """The general code of a status, for a problem that names none."""
    if status in _GENERAL_CODES:
        return _GENERAL_CODES[status]
    return Code.SERVER_ERROR if status >= 500 else Code.INVALID_REQUEST


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's handler (headers: WWW-Authenticate, Retry-After), reshaped as a problem."""
    # Here, not at the top: the authentication imports this module while
    # rest_framework.views loads its settings.
    from rest_framework.views import exception_handler, set_rollback

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        logger.exception("API error in %s", context.get("view").__class__.__name__)
        set_rollback()
        return problem(500, gettext("Something went wrong on our side."), code=Code.SERVER_ERROR)
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        extra["errors"] = _field_errors(exc.detail)
    if isinstance(exc, Conflict | UnknownDataType):
        extra |= exc.extra
    if isinstance(exc, ProxyProblem):
        extra |= exc.extra
    headers = {
        k: v for k, v in response.headers.items() if k in ("WWW-Authenticate", "Retry-After")
    }
    return problem(response.status_code, _detail(exc), code=code_of(exc), headers=headers, **extra)
