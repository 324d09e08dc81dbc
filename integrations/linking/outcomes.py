"""How a trip to Sage can end: why a link URL cannot be used, why a link failed, and what
the customer reads then."""

from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from integrations.models import Company

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Wording(NamedTuple):
    """What a link page says: its heading and its message (translated when shown)."""

    title: "StrOrPromise"
    message: "StrOrPromise"


class Unavailable(StrEnum):
    """Why a link URL cannot be used."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    DISABLED = "disabled"
    LINKED = "linked"
    TOO_MANY = "too_many"  # too many starts for this link URL or from this address


_CANNOT_BE_USED = _("This link cannot be used")
UNAVAILABLE_WORDING = {
    Unavailable.UNKNOWN: Wording(
        _CANNOT_BE_USED,
        _(
            "This link is not valid. Check that you copied it completely, "
            "or ask the company that sent it to you for a new one."
        ),
    ),
    Unavailable.EXPIRED: Wording(
        _CANNOT_BE_USED,
        _("This link has expired. Ask the company that sent it to you for a new one."),
    ),
    Unavailable.DISABLED: Wording(
        _CANNOT_BE_USED,
        _(
            "This integration is not available for linking at the moment. "
            "Please contact the company that sent you this link."
        ),
    ),
    Unavailable.LINKED: Wording(
        _CANNOT_BE_USED,
        _("This company is already linked to Sage. There is nothing more to do."),
    ),
    Unavailable.TOO_MANY: Wording(
        _("Too many attempts"),
        _("This link was used too often just now. Wait a few minutes, then try again."),
    ),
}


class LinkUnavailable(Exception):
    """The link URL cannot be used, for `reason`; `company` when its link URL was found."""

    def __init__(self, reason: Unavailable, company: Company | None = None):
        super().__init__(reason)
        self.reason = reason
        self.company = company


class LinkFailure(StrEnum):
    """Why a trip to Sage did not link: the history's `reason` of a failed link."""

    ACCESS_DENIED = "access_denied"
    PROVIDER_ERROR = "provider_error"
    INTEGRATION_DISABLED = "integration_disabled"
    CREDENTIALS_CHANGED = "credentials_changed"
    LINK_RENEWED = "link_renewed"  # the link URL was renewed or expired during the trip
    # Sage's token endpoint refused: the same values as the OAuth error kinds.
    INVALID_GRANT = "invalid_grant"
    INVALID_CLIENT = "invalid_client"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    BAD_RESPONSE = "bad_response"
    BUSINESSES = "businesses"
    NO_BUSINESS = "no_business"
    # Our side: the stored secrets cannot be read with the current encryption keys.
    SECRETS_UNREADABLE = "secrets_unreadable"


# Stored in Connection.last_error in English; the pages translate them when shown.
FAILURE_MESSAGES = {
    LinkFailure.ACCESS_DENIED: gettext_noop("The customer cancelled the authorization at Sage."),
    LinkFailure.PROVIDER_ERROR: gettext_noop("Sage did not authorize the link."),
    LinkFailure.INTEGRATION_DISABLED: gettext_noop("The integration was disabled during the link."),
    LinkFailure.CREDENTIALS_CHANGED: gettext_noop(
        "The integration's credentials changed during the link."
    ),
    LinkFailure.LINK_RENEWED: gettext_noop(
        "The link URL was renewed or expired during the link: the old one was not used."
    ),
    LinkFailure.INVALID_GRANT: gettext_noop(
        "Sage refused the authorization code (expired or already used)."
    ),
    LinkFailure.INVALID_CLIENT: gettext_noop(
        "Sage rejected the integration's client ID or secret."
    ),
    LinkFailure.REJECTED: gettext_noop("Sage refused the token request."),
    LinkFailure.UNAVAILABLE: gettext_noop("Sage's token endpoint could not be reached."),
    LinkFailure.BAD_RESPONSE: gettext_noop("Sage's token endpoint sent an unusable answer."),
    LinkFailure.BUSINESSES: gettext_noop("Sage's list of businesses could not be read."),
    LinkFailure.NO_BUSINESS: gettext_noop("The Sage account has no business to link."),
    LinkFailure.SECRETS_UNREADABLE: gettext_noop(
        "The stored secrets cannot be read with the current encryption keys."
    ),
}


class ProviderError(StrEnum):
    """The `error` Sage sends back to the callback instead of a code (RFC 6749, 4.1.2.1)."""

    ACCESS_DENIED = "access_denied"
    INVALID_REQUEST = "invalid_request"
    INVALID_SCOPE = "invalid_scope"
    SERVER_ERROR = "server_error"
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"
    UNAUTHORIZED_CLIENT = "unauthorized_client"
    UNSUPPORTED_RESPONSE_TYPE = "unsupported_response_type"


class Notice(StrEnum):
    """What the customer reads at the end of the trip to Sage."""

    LINKED = "linked"
    BUSINESS_LINKED = "business_linked"
    CANCELLED = "cancelled"
    SAGE_BUSY = "sage_busy"
    CLIENT_NOT_ACCEPTED = "client_not_accepted"
    PROVIDER_ERROR = "provider_error"
    ALREADY_LINKED = "already_linked"
    INTEGRATION_CHANGED = "integration_changed"
    LINK_REPLACED = "link_replaced"
    CODE_EXPIRED = "code_expired"
    KEYS_REJECTED = "keys_rejected"
    NO_BUSINESS = "no_business"
    UNREACHABLE = "unreachable"
    NOT_COMPLETED = "not_completed"

    @property
    def success(self) -> bool:
        return self in (Notice.LINKED, Notice.BUSINESS_LINKED)

    @classmethod
    def linked(cls, business_name: str) -> "Notice":
        """The notice of a completed link, which names the business when it has a name."""
        return cls.BUSINESS_LINKED if business_name else cls.LINKED


_LINKED = _("Your Sage business is linked")
_NOT_COMPLETED = _("The link did not complete")
# Messages are formatted with the company's and the business's names when shown.
NOTICE_WORDING = {
    Notice.LINKED: Wording(_LINKED, _("Sage is now linked for %(company)s.")),
    Notice.BUSINESS_LINKED: Wording(_LINKED, _("%(business)s is now linked for %(company)s.")),
    Notice.CANCELLED: Wording(
        _("Linking cancelled"), _("You did not allow access at Sage, so nothing was linked.")
    ),
    Notice.SAGE_BUSY: Wording(
        _NOT_COMPLETED,
        _("Sage could not process the authorization just now. Please try again in a few minutes."),
    ),
    Notice.CLIENT_NOT_ACCEPTED: Wording(
        _NOT_COMPLETED,
        _(
            "Sage did not accept this application's setup. "
            "Please tell the company that sent you the link."
        ),
    ),
    Notice.PROVIDER_ERROR: Wording(
        _NOT_COMPLETED,
        _(
            "Sage did not authorize the link. Please try again; if it happens again, "
            "tell the company that sent you the link."
        ),
    ),
    Notice.ALREADY_LINKED: Wording(
        _NOT_COMPLETED,
        _(
            "This company was linked in another window while you were at Sage, "
            "so this authorization was not used. Nothing more to do."
        ),
    ),
    Notice.INTEGRATION_CHANGED: Wording(
        _NOT_COMPLETED,
        _(
            "The integration changed while you were at Sage, so this authorization was "
            "not used. Please try again; if it happens again, tell the company that sent "
            "you the link."
        ),
    ),
    Notice.LINK_REPLACED: Wording(
        _NOT_COMPLETED,
        _(
            "This link was replaced or has expired while you were at Sage, so this "
            "authorization was not used."
        ),
    ),
    Notice.CODE_EXPIRED: Wording(
        _NOT_COMPLETED,
        _(
            "Sage's authorization expired or was already used. Please try again, "
            "without waiting more than a minute at the end."
        ),
    ),
    Notice.KEYS_REJECTED: Wording(
        _NOT_COMPLETED,
        _(
            "Nothing is wrong on your side: Sage did not accept the keys of the company "
            "that sent you this link, so nothing was linked. They can see the problem in "
            "their portal; please try again once they have fixed it."
        ),
    ),
    Notice.NO_BUSINESS: Wording(
        _NOT_COMPLETED,
        _(
            "Your Sage account has no business to link. Check that you signed in with "
            "the right account, then try again."
        ),
    ),
    Notice.UNREACHABLE: Wording(
        _NOT_COMPLETED,
        _(
            "Sage could not be reached or sent an unexpected answer. Nothing was saved. "
            "Please try again in a few minutes."
        ),
    ),
    # Neutral on purpose: the customer cannot act on our encryption keys.
    Notice.NOT_COMPLETED: Wording(
        _NOT_COMPLETED,
        _(
            "The link could not be completed because of a problem on our side. Nothing "
            "was saved. Please tell the company that sent you the link."
        ),
    ),
}
# What the customer reads for an `error` from Sage (others: PROVIDER_ERROR; access_denied
# is a cancel), and for a refusal of the token endpoint (keys: the OAuth error kinds).
PROVIDER_ERROR_NOTICES: dict[str, Notice] = {  # looked up with the raw `error`
    ProviderError.SERVER_ERROR: Notice.SAGE_BUSY,
    ProviderError.TEMPORARILY_UNAVAILABLE: Notice.SAGE_BUSY,
    ProviderError.UNAUTHORIZED_CLIENT: Notice.CLIENT_NOT_ACCEPTED,
}
TOKEN_ERROR_NOTICES = {
    LinkFailure.INVALID_GRANT: Notice.CODE_EXPIRED,
    LinkFailure.INVALID_CLIENT: Notice.KEYS_REJECTED,
    LinkFailure.REJECTED: Notice.KEYS_REJECTED,
    LinkFailure.UNAVAILABLE: Notice.UNREACHABLE,
    LinkFailure.BAD_RESPONSE: Notice.UNREACHABLE,
}
