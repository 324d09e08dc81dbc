"""Throttling per API key, counted in the default cache (shared by all workers in production).

Each answer to a key announces where it stands (`RateLimit-Limit`, `RateLimit-Remaining`,
`RateLimit-Reset`: seconds until a request is counted out of the window).
"""

import math
from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

# Types only: DRF imports these classes from settings while rest_framework.views loads.
if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

# Where the throttle leaves the numbers for the answer's headers (on Django's request).
RATE_LIMIT_ATTRIBUTE = "api_rate_limit"


class ApiKeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        return str(settings.API_THROTTLE_RATE)  # read per request: tests and deploys change it

    def get_cache_key(self, request: "Request", view: "APIView") -> str | None:
        if request.auth is None:
            return None  # refused before: no key, nothing to count
        return str(self.cache_format % {"scope": self.scope, "ident": request.auth.prefix})

    def allow_request(self, request: "Request", view: "APIView") -> bool:
        allowed = bool(super().allow_request(request, view))
        if getattr(self, "key", None) is not None:
            setattr(request._request, RATE_LIMIT_ATTRIBUTE, self.headers())
        return allowed

    def headers(self) -> dict[str, str]:
        """RateLimit-* for the window as it stands after this request."""
        remaining = max(0, self.num_requests - len(self.history))
        reset = self.duration - (self.now - self.history[-1]) if self.history else 0
        return {
            "RateLimit-Limit": str(self.num_requests),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(max(0, math.ceil(reset))),
        }


def rate_limit_headers(request: object) -> dict[str, str]:
    """The RateLimit-* headers the throttle left on the request, if it counted it."""
    return dict(getattr(request, RATE_LIMIT_ATTRIBUTE, {}))
