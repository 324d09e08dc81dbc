"""Throttling per API key, counted in the default cache (shared by all workers in production)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class ApiKeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        return str(settings.API_THROTTLE_RATE)  # read per request: tests and deploys change it

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is None:
            return None  # refused before: no key, nothing to count
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
