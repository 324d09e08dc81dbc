"""A logging filter that keeps secrets out of log records."""

import logging
import re

_PATTERNS = [
    # Authorization headers, in any rendering.
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer|basic)\s+[^\s'\",}]+"),
        r"\1\2 [redacted]",
    ),
    # key=value and "key": "value" for the names of our secrets.
    (
        re.compile(
            r"(?i)((?:access_token|refresh_token|client_secret|signing_secret|subscription_key|"
            r"code_verifier|code|token|password|ocp-apim-subscription-key)"
            r"['\"]?\s*[:=]\s*['\"]?)([^\s&'\",}]+)"
        ),
        r"\1[redacted]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrite each record's message with tokens, codes, secrets and auth headers redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logged as it is
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
