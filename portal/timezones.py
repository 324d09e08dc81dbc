"""Times in the reader's own time zone, which the browser tells us in the `tz` cookie.

static/portal/portal.js sets the cookie from `Intl.DateTimeFormat().resolvedOptions()`;
until it has (the very first page) or when it names no known zone, times are in TIME_ZONE.
"""

from collections.abc import Callable
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

COOKIE = "tz"


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def reader_zone(name: str) -> ZoneInfo | None:
    """The zone named `name` ("Europe/Paris"), or None for anything else."""
    return ZoneInfo(name) if name in _known() else None


class ReaderTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        zone = reader_zone(request.COOKIES.get(COOKIE, "")[:64])
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        return self.get_response(request)
