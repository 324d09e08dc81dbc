"""`Authorization: Api-Key <key>`: a key of one organization, checked against its hash.

A missing, malformed, unknown, revoked or expired key gets the same 401: the answer
never tells whether a key exists.
"""

import re
from typing import TYPE_CHECKING

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

# Types only: DRF imports these classes from settings while rest_framework.views loads.
if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

from integrations.api_keys.services import api_key_touch
from integrations.models import OrganizationAPIKey
from portal.organizations.models import Organization

SCHEME = "Api-Key"
# "<prefix>.<secret>" as djangorestframework-api-key makes them (8 + 32 characters).
KEY_SHAPE = re.compile(r"[A-Za-z0-9]{1,16}\.[A-Za-z0-9]{1,128}")


def _key_from(request: "Request") -> str | None:
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    if not header:
        return None
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme != SCHEME or not KEY_SHAPE.fullmatch(key):
        raise AuthenticationFailed
    return key


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticate the request as its key's organization: `request.auth` is the key."""

    def authenticate(self, request: "Request") -> tuple[None, OrganizationAPIKey] | None:
        key = _key_from(request)
        if key is None:
            return None
        prefix = key.partition(".")[0]
        api_key = (
            OrganizationAPIKey.objects.get_usable_keys()
            .select_related("organization")
            .filter(prefix=prefix)
            .first()
        )
        if api_key is None or not api_key.is_valid(key) or api_key.has_expired:
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
