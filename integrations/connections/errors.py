"""What can go wrong with a connection: the exceptions its services raise, and the
messages they keep in `last_error` (untranslated, each page translates them)."""

from django.utils.translation import gettext, gettext_noop

# Stored in `last_error` untranslated, so that each page translates them for its reader.
MUST_RELINK = gettext_noop(
    "Sage no longer accepts this company's authorization: "
    "the company must link its Sage business again."
)
REFRESH_UNAVAILABLE = gettext_noop("Sage could not be reached to refresh the tokens; will retry.")
REFRESH_REFUSED = gettext_noop("Sage refused to refresh the tokens.")
TOKENS_NOT_SAVED = gettext_noop(
    "Sage renewed the tokens but the portal could not save them: the next refresh will "
    "fail and the company will probably have to link its Sage business again. "
    "The administrators have been alerted."
)
CONNECTION_BUSY = gettext_noop(
    "The connection to Sage is being renewed by another request; try again in a moment."
)


class TokenError(Exception):
    """The connection has no usable access token."""

    retryable = False


class RelinkRequired(TokenError):
    """Sage no longer accepts this connection's tokens: the company must link again."""

    def __init__(self, message: str | None = None):
        super().__init__(message or gettext(MUST_RELINK))


class RefreshFailed(TokenError):
    """The refresh did not happen this time; the tokens are kept."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


class ConnectionBusy(TokenError):
    """Another worker holds the connection's row lock (a refresh under way): try again soon."""

    retryable = True

    def __init__(self) -> None:
        super().__init__(gettext(CONNECTION_BUSY))


class TokensNotSaved(TokenError):
    """Sage rotated the tokens but they could not be stored: the stored refresh token is spent."""

    def __init__(self) -> None:
        super().__init__(gettext(TOKENS_NOT_SAVED))


class AlreadyLinked(Exception):
    """Another browser finished linking this company while this one was at Sage."""


class ChoiceTooLate(Exception):
    """The business choice came for a connection no longer waiting for one."""
