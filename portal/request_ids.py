"""One id per request: in the `X-Request-ID` answer header and on every log line.

The caller's own `X-Request-ID` is kept when it is sane (1 to 128 letters, digits,
`.`, `_`, `:` or `-`), so that a platform can follow its request through our logs;
anything else is replaced by a new random id. The REST API's answers (`/api/v1/`)
are never stored by a cache on the way (`Cache-Control: no-store`): they hold an
organization's data.
"""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

if TYPE_CHECKING:  # (loaded by the logging configuration, before the apps)
    from portal.organizations.tenancy import PortalRequest

HEADER = "X-Request-ID"
SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
API_PREFIX = "/api/v1/"
NONE = "-"

_current: ContextVar[str] = ContextVar("request_id", default=NONE)


def current_request_id() -> str:
    """The id of the request being answered in this thread, or "-" outside one."""
    return _current.get()


def request_id_from(header: str | None) -> str:
    """The caller's id when sane, else a new one."""
    if header and SANE.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: "PortalRequest") -> HttpResponseBase:
        request_id = request_id_from(request.headers.get(HEADER))
        request.request_id = request_id
        # Kept until the answer is closed (request_finished), not only until this returns:
        # Django logs a 4xx or 5xx answer after the middleware chain has returned.
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        if request.path.startswith(API_PREFIX):
            response["Cache-Control"] = "no-store"
        return response


@receiver(request_finished)
def _forget_request_id(**kwargs: object) -> None:
    _current.set(NONE)


class RequestIdFilter(logging.Filter):
    """Put `request_id` on every record, for the formatter's `%(request_id)s`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True
