"""What the branding pages and the customer's pages read of an organization's brand."""

from portal.organizations.models import Organization


def brand_organization(*, pk: int | None) -> Organization | None:
    """The organization whose brand a customer's page shows (its session names it)."""
    return Organization.objects.filter(pk=pk).first() if pk else None


def organization_logo(*, organization_id: int, version: str) -> Organization | None:
    """The organization whose current logo has this content hash, or None."""
    organization = Organization.objects.filter(pk=organization_id).exclude(logo="").first()
    if organization is None or organization.logo_version != version:
        return None
    return organization
