"""The provider seam: everything the portal needs from an accounting platform.

Views, services, the API, the admin, the forms and the models talk to this module,
never to `integrations.sage` (an import-linter contract holds it). Sage is the one
platform today; a second one (Xero, QuickBooks Online) would add its own protocol
package beside `sage/` and be chosen here (docs/architecture.md).

What is protocol, and so decided here rather than by each caller: which API versions
exist and which is the default, which keys a version needs, whether the platform
lists businesses after the token exchange, whether it can revoke a token, and where
a legacy version keeps a business's details.

Generic names for generic things: the client, its errors. (The protocol's own names,
`SageClient`, `SageApiError`, stay inside `integrations/sage/`.)
"""

from integrations.sage import endpoints, oauth
from integrations.sage.businesses import Business, list_businesses
from integrations.sage.client import ApiAuth
from integrations.sage.client import SageClient as AccountingClient
from integrations.sage.concurrency import sage_slot as accounting_slot
from integrations.sage.countries import COUNTRIES, UNSUPPORTED_REGIONS, countries_for
from integrations.sage.errors import OAuthErrorKind
from integrations.sage.errors import SageAnswerTooLarge as AccountingAnswerTooLarge
from integrations.sage.errors import SageApiError as AccountingApiError
from integrations.sage.errors import SageBusy as AccountingBusy
from integrations.sage.errors import SageOAuthError as AccountingOAuthError
from integrations.sage.http import plain_http_configured
from integrations.sage.oauth import TokenSet, token_lifetime
from integrations.sage.versions import ApiVersion

__all__ = [
    "COUNTRIES",
    "DEFAULT_VERSION",
    "FIELDS_BY_VERSION",
    "LEGACY_VERSION",
    "UNSUPPORTED_REGIONS",
    "AccountingAnswerTooLarge",
    "AccountingApiError",
    "AccountingBusy",
    "AccountingClient",
    "AccountingOAuthError",
    "ApiAuth",
    "ApiVersion",
    "Business",
    "OAuthErrorKind",
    "TokenSet",
    "accounting_slot",
    "can_revoke",
    "countries_for",
    "endpoints",
    "is_legacy",
    "list_businesses",
    "lists_businesses",
    "oauth",
    "plain_http_configured",
    "token_lifetime",
]

# The version new integrations use, and the legacy one kept for older keys.
DEFAULT_VERSION = ApiVersion.V31
LEGACY_VERSION = ApiVersion.V30

# The credential-field catalogue: which keys each API version needs.
FIELDS_BY_VERSION: dict[ApiVersion, tuple[str, ...]] = {
    ApiVersion.V30: ("client_id", "client_secret", "signing_secret", "subscription_key"),
    ApiVersion.V31: ("client_id", "client_secret"),
}


def is_legacy(api_version: str) -> bool:
    """Whether `api_version` is the legacy one (v3.0): one business per token, no choice,
    its details in the "core" API."""
    return api_version == LEGACY_VERSION


def lists_businesses(api_version: str) -> bool:
    """Whether the platform lists the token's businesses after the exchange (v3.1)."""
    return api_version == ApiVersion.V31


def can_revoke(api_version: str) -> bool:
    """Whether the platform can revoke a refresh token of this version (v3.1)."""
    return api_version == ApiVersion.V31
