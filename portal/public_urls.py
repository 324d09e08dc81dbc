"""Absolute URLs of the portal, in one place: PORTAL_BASE_URL, never the request's Host.

Every URL that leaves the portal (a link URL, Sage's redirect URI, an invitation, the
API's links) is built here, so that none can take a forged Host header.
"""

from typing import Any

from django.conf import settings
from django.urls import reverse


def public_url(viewname: str, *args: Any, **kwargs: Any) -> str:
    """The absolute URL of a named view, on PORTAL_BASE_URL."""
    base: str = settings.PORTAL_BASE_URL
    return base + reverse(viewname, args=args or None, kwargs=kwargs or None)
