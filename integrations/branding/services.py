"""An organization's branding on the customer's link pages: name, logo and privacy page."""

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from portal.organizations.models import Organization


def _logo_name(organization: Organization, png: bytes) -> str:
    # Named by its content: the logo's URL changes with it, so it can be cached for good.
    digest = hashlib.sha256(png).hexdigest()[:20]
    return f"logos/{organization.pk}/{digest}.png"


def organization_branding_save(
    *,
    organization: Organization,
    display_name: str,
    privacy_url: str,
    website_url: str = "",
    logo_png: bytes | None = None,
    remove_logo: bool = False,
    redirect_origins: str | None = None,
) -> Organization:
    """Save the branding; `logo_png` (already re-encoded by the form) replaces the logo."""
    old_logo = organization.logo.name if organization.logo else ""
    if logo_png is not None:
        name = _logo_name(organization, png=logo_png)
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(logo_png))
        organization.logo.name = name
    elif remove_logo:
        organization.logo.name = ""
    organization.display_name = display_name
    organization.privacy_url = privacy_url
    organization.website_url = website_url
    fields = ["display_name", "privacy_url", "website_url", "logo"]
    if redirect_origins is not None:  # one a line, validated by the form
        organization.redirect_origins = redirect_origins
        fields.append("redirect_origins")
    organization.save(update_fields=fields)
    if old_logo and old_logo != organization.logo.name:
        # Only once the row no longer names it: a failed save keeps the old logo.
        transaction.on_commit(lambda: default_storage.delete(old_logo))
    return organization
