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

    @classmethod
    def choices(cls) -> list[tuple[str, "StrPromise"]]:
        """(value, label) pairs for a model or form field."""
        return [(version.value, version.label) for version in cls]


_LABELS: dict[ApiVersion, "StrPromise"] = {
    ApiVersion.V30: _(
        "Client ID, client secret, signing secret and subscription key (API v3 - UKI)"
    ),
    ApiVersion.V31: _("Client ID and client secret only (API v3.1 - UKI, US, CA, DE, ES, FR)"),
}
