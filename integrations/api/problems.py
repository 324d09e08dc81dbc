"""RFC 9457 problem details: the one shape of every error the API answers.

`{"type", "title", "status", "detail"}`, with `errors` (`[{"field", "detail"}]`) for
invalid input, served as `application/problem+json`.
"""

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"


class Conflict(exceptions.APIException):
    """409, with members of its own (the existing company's id, say)."""

    status_code = HTTPStatus.CONFLICT

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.extra = extra


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
        self, status: int, detail: str, *, code: str, wait: int | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status_code = status
        self.problem_code = code
        self.wait = wait  # seconds: DRF's handler sends it as Retry-After
        self.extra = extra


def problem(
    status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
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
    if isinstance(exc, exceptions.Throttled):
        return gettext("Too many requests for this API key; retry after the delay in Retry-After.")
    return str(exc.detail)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's handler (headers: WWW-Authenticate, Retry-After), reshaped as a problem."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        logger.exception("API error in %s", context.get("view").__class__.__name__)
        set_rollback()
        return problem(500, gettext("Something went wrong on our side."))
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        extra["errors"] = _field_errors(exc.detail)
    if isinstance(exc, Conflict):
        extra |= exc.extra
    if isinstance(exc, ProxyProblem):
        extra |= {"code": exc.problem_code, **exc.extra}
    headers = {
        k: v for k, v in response.headers.items() if k in ("WWW-Authenticate", "Retry-After")
    }
    return problem(response.status_code, _detail(exc), headers=headers, **extra)
