"""The Sage businesses a new v3.1 access token covers (`GET /businesses`)."""

import json
from dataclasses import dataclass

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from ..models import ApiVersion
from . import endpoints

MAX_PAGES = 10  # 2,000 businesses: more than any one Sage user holds
ITEMS_PER_PAGE = 200


@dataclass(frozen=True)
class Business:
    id: str
    name: str


class BusinessesError(Exception):
    """The list of businesses could not be read; the message is our own words."""


def _business(item) -> Business | None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        return None
    name = item.get("displayed_as") or item.get("name") or item["id"]
    return Business(id=item["id"][:64], name=str(name)[:255])


@sensitive_variables()
def list_businesses(access_token: str) -> list[Business]:
    """Return every business the access token covers, in Sage's order."""
    url = f"{endpoints.api_url(ApiVersion.V31)}/businesses"
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    businesses: list[Business] = []
    with requests.Session() as session:
        session.trust_env = False
        for page in range(1, MAX_PAGES + 1):
            try:
                response = session.get(
                    url,
                    params={"page": page, "items_per_page": ITEMS_PER_PAGE},
                    headers=headers,
                    timeout=settings.SAGE_HTTP_TIMEOUT,
                    allow_redirects=False,
                )
            except requests.RequestException:
                raise BusinessesError("Sage could not be reached.") from None
            if response.status_code != 200:
                raise BusinessesError(f"Sage answered HTTP {response.status_code}.")
            try:
                body = json.loads(response.text)
                items = body["$items"]
            except (ValueError, TypeError, KeyError):
                raise BusinessesError("Sage sent an unexpected answer.") from None
            if not isinstance(items, list):
                raise BusinessesError("Sage sent an unexpected answer.")
            businesses.extend(b for b in map(_business, items) if b is not None)
            if not body.get("$next"):
                break
    return businesses
