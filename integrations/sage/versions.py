"""The Sage API versions a credential set speaks."""

from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class ApiVersion(StrEnum):
    V30 = "3.0"
    V31 = "3.1"

    @property
    def label(self) -> "StrPromise":
        """The credential choice an admin reads (the seed's words)."""
        return _LABELS[self]

    @property
    def short_label(self) -> "StrPromise":
        """The version in a few words, everywhere but the credential choice: "API v3.1"."""
        return _SHORT_LABELS[self]

    @classmethod
    def choices(cls) -> list[tuple[str, "StrPromise"]]:
        """(value, label) pairs for the settings question (the seed's words)."""
        return [(version.value, version.label) for version in cls]

    @classmethod
    def short_choices(cls) -> list[tuple[str, "StrPromise"]]:
        """(value, short label) pairs: how stored rows show their version."""
        return [(version.value, version.short_label) for version in cls]


_LABELS: dict[ApiVersion, "StrPromise"] = {
    ApiVersion.V30: _(
        "Client ID, client secret, signing secret and subscription key (API v3 - UKI)"
    ),
    ApiVersion.V31: _("Client ID and client secret only (API v3.1 - UKI, US, CA, DE, ES, FR)"),
}
_SHORT_LABELS: dict[ApiVersion, "StrPromise"] = {
    ApiVersion.V30: _("API v3.0 (legacy)"),
    ApiVersion.V31: _("API v3.1"),
}
