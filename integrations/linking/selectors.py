"""What the customer's pages before Sage read: the company of a link URL, the
integrations it can link with. Reads only; the writes are in `linking.services`."""

from typing import TYPE_CHECKING

from integrations.linking.outcomes import LinkUnavailable, Unavailable
from integrations.models import Company, Integration

if TYPE_CHECKING:
    from integrations.models import CredentialSet


def company_for_link_token(*, token: str) -> Company:
    """Return the company of a link token, or raise LinkUnavailable (unknown or expired)."""
    if len(token) > 64 or "\x00" in token:  # never a token; PostgreSQL refuses NUL
        raise LinkUnavailable(Unavailable.UNKNOWN)
    company = (
        Company.objects.select_related("organization", "connection").filter(link_token=token)
    ).first()
    if company is None:
        raise LinkUnavailable(Unavailable.UNKNOWN)
    if not company.link_is_valid:
        raise LinkUnavailable(Unavailable.EXPIRED, company)
    return company


def _usable(integration: Integration) -> "CredentialSet | None":
    chosen = integration.chosen_credential_set()
    return chosen if integration.enabled and chosen and chosen.is_complete else None


def link_integrations(*, company: Company) -> list[Integration]:
    """Return the integrations this company can link with now."""
    integrations = Integration.objects.for_org(company.organization).enabled()
    return [i for i in integrations.prefetch_related("credential_sets") if _usable(i)]


def link_integration(*, company: Company, platform: str) -> tuple[Integration, "CredentialSet"]:
    """Return an enabled integration and the set new links use, or raise LinkUnavailable."""
    integration = (
        Integration.objects.for_org(company.organization)
        .filter(platform=platform)
        .prefetch_related("credential_sets")
        .first()
    )
    credential_set = _usable(integration) if integration else None
    if integration is None or credential_set is None:
        raise LinkUnavailable(Unavailable.DISABLED, company)
    return integration, credential_set
