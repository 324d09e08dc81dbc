"""`Authorization: Api-Key <key>`: a key of one organization, checked against its hash.

A missing, malformed, unknown, revoked or expired key gets the same 401: the answer
never tells whether a key exists. Wrong keys are counted per address and per key
prefix in the default cache, for API_AUTH_FAILURE_WINDOW seconds from the first one:
past API_AUTH_FAILURE_LIMIT, either is refused with a 429 until the window ends, even
with the right key (else guessing would go on), and every limit's worth of failures
is logged (the address and the prefix, never the secret).
"""

import logging
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

# Types only: DRF imports these classes from settings while rest_framework.views loads.
if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

from integrations.api.problems import TooManyFailedAttempts
from integrations.api_keys.services import api_key_touch
from integrations.models import OrganizationAPIKey
from portal.organizations.models import Organization

logger = logging.getLogger(__name__)

SCHEME = "Api-Key"
# "<prefix>.<secret>" as djangorestframework-api-key makes them (8 + 32 characters).
KEY_SHAPE = re.compile(r"[A-Za-z0-9]{1,16}\.[A-Za-z0-9]{1,128}")


def _failure_counters(request: "Request", prefix: str | None) -> list[str]:
    """The cache keys counting the failures of the address and of the key prefix."""
    counters = [f"api-auth-failures:addr:{request.META.get('REMOTE_ADDR', '')}"]
    if prefix:
        counters.append(f"api-auth-failures:prefix:{prefix}")
    return counters


def _count_failure(request: "Request", prefix: str | None) -> None:
    """Count a failed attempt of the address and of the prefix; log each limit's worth."""
    limit = settings.API_AUTH_FAILURE_LIMIT
    for counter in _failure_counters(request, prefix):
        try:
            count = cache.incr(counter)  # keeps the counter's expiry
        except ValueError:  # the first failure: its window starts now
            cache.set(counter, 1, timeout=settings.API_AUTH_FAILURE_WINDOW)
            count = 1
        if count % limit == 0:
            logger.warning(
                "Repeated failed API key attempts: %d in %d s from address %s (key prefix %s)",
                count,
                settings.API_AUTH_FAILURE_WINDOW,
                request.META.get("REMOTE_ADDR", "?"),
                prefix or "none",
            )


def _refuse_if_failing(request: "Request", prefix: str | None) -> None:
    """A 429 once the address or the prefix has failed the limit's worth of times; the
    refused attempt counts too, so that an attack that goes on stays in the logs."""
    counts = cache.get_many(_failure_counters(request, prefix))
    if any(count >= settings.API_AUTH_FAILURE_LIMIT for count in counts.values()):
        _count_failure(request, prefix)
        raise TooManyFailedAttempts(wait=settings.API_AUTH_FAILURE_WINDOW)


def _key_from(request: "Request") -> str | None:
    header = str(request.headers.get("authorization", ""))
    if not header:
        return None
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme != SCHEME or not KEY_SHAPE.fullmatch(key):
        _refuse_if_failing(request, None)
        _count_failure(request, None)
        raise AuthenticationFailed
    return key


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticate the request as its key's organization: `request.auth` is the key."""

    def authenticate(self, request: "Request") -> tuple[None, OrganizationAPIKey] | None:
        key = _key_from(request)
        if key is None:
            return None
        prefix = key.partition(".")[0]
        _refuse_if_failing(request, prefix)
        api_key = (
            OrganizationAPIKey.objects.get_usable_keys()
            .select_related("organization")
            .filter(prefix=prefix)
            .first()
        )
        if api_key is None or not api_key.is_valid(key) or api_key.has_expired:
            _count_failure(request, prefix)
            raise AuthenticationFailed
        api_key_touch(api_key=api_key)
        return (None, api_key)

    def authenticate_header(self, request: "Request") -> str:
        return SCHEME


class HasOrganizationKey(BasePermission):
    """Only a request authenticated by an organization's key."""

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        return isinstance(request.auth, OrganizationAPIKey)


def organization_of(request: "Request") -> Organization:
    """The organization the request acts for (its key's)."""
    api_key = request.auth
    assert isinstance(api_key, OrganizationAPIKey)  # HasOrganizationKey let it through
    return api_key.organization
