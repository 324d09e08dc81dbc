"""The Sage businesses a new v3.1 access token covers (`GET /businesses`)."""

from dataclasses import dataclass
from itertools import islice

from django.views.decorators.debug import sensitive_variables

from integrations.sage.client import ApiAuth, SageClient
from integrations.sage.versions import ApiVersion

MAX_PAGES = 10  # 2,000 businesses: more than any one Sage user holds
ITEMS_PER_PAGE = 200


@dataclass(frozen=True)
class Business:
    id: str
    name: str


def _business(item: dict[str, object]) -> Business | None:
    business_id = item.get("id")
    if not isinstance(business_id, str) or not business_id:
        return None
    name = item.get("displayed_as") or item.get("name") or business_id
    return Business(id=business_id[:64], name=str(name)[:255])


@sensitive_variables()
def list_businesses(access_token: str) -> list[Business]:
    """Return every business the access token covers, in Sage's order (at most MAX_PAGES pages).

    Raises SageApiError when the list cannot be read.
    """

    @sensitive_variables()
    def auth() -> ApiAuth:
        return ApiAuth(api_version=ApiVersion.V31, access_token=access_token)

    client = SageClient(auth, api_version=ApiVersion.V31)
    pages = client.pages("businesses", {"page": 1, "items_per_page": ITEMS_PER_PAGE})
    return [
        business
        for page in islice(pages, MAX_PAGES)
        for business in map(_business, page.items)
        if business is not None
    ]
