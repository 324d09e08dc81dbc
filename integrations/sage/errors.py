"""The one exception family of everything that speaks Sage.

Messages are our own words, never the provider's text.
"""

from enum import StrEnum


class OAuthErrorKind(StrEnum):
    """Why Sage's token or revoke endpoint did not give what was asked."""

    INVALID_GRANT = "invalid_grant"  # the code or refresh token is expired or spent
    INVALID_CLIENT = "invalid_client"  # the client ID or secret is wrong
    REJECTED = "rejected"  # any other refusal
    UNAVAILABLE = "unavailable"  # unreachable, 5xx or 429: worth trying again later
    BAD_RESPONSE = "bad_response"  # an answer we cannot use


class SageError(Exception):
    """Sage refused, failed or answered something unusable."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class SageOAuthError(SageError):
    """Sage's token or revoke endpoint refused, failed or answered something unusable."""

    def __init__(self, kind: OAuthErrorKind, message: str, *, error: str = "") -> None:
        kind = OAuthErrorKind(kind)  # ValueError for a kind we do not know
        super().__init__(message, retryable=kind is OAuthErrorKind.UNAVAILABLE)
        self.kind = kind
        self.error = error  # the OAuth error code Sage sent, if any (at most 64 characters)


class SageApiError(SageError):
    """Sage's API refused, failed or answered something unusable."""

    def __init__(
        self,
        message: str,
        *,
        data_code: str = "",
        request_id: str = "",
        status: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.data_code = data_code
        self.request_id = request_id
        self.status = status


class SageBusy(SageApiError):
    """No slot for another request to Sage now: the app's or the business's ceiling is full.

    Nothing was sent to Sage; try again after `retry_after` seconds.
    """

    def __init__(self, message: str, *, scope: str, retry_after: int = 1) -> None:
        super().__init__(message, retryable=True)
        self.scope = scope  # "app" or "business": which ceiling is full
        self.retry_after = retry_after


class SageAnswerTooLarge(SageApiError):
    """Sage's answer is larger than the caller accepts (SAGE_PROXY_MAX_BYTES): not read further."""
