"""Throttling per API key, counted in the default cache (shared by all workers in production)."""

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

# Types only: DRF imports these classes from settings while rest_framework.views loads.
if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ApiKeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        return str(settings.API_THROTTLE_RATE)  # read per request: tests and deploys change it

    def get_cache_key(self, request: "Request", view: "APIView") -> str | None:
        if request.auth is None:
            return None  # refused before: no key, nothing to count
        return str(self.cache_format % {"scope": self.scope, "ident": request.auth.prefix})
