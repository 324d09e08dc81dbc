"""`Idempotency-Key` on the API's POSTs: the HTTP side of services.idempotency.

A POST with the header is run once: a retry with the same key and body within 24
hours gets the first answer again (with `Idempotent-Replayed: true`), a retry while
the first still runs a 409 (`idempotency_key_in_use`, Retry-After: 1), the same key
with another body a 422 (`idempotency_key_reused`). Keys are 1 to 255 printable
ASCII characters, the organization's own.
"""

import re
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.api.authentication import organization_of
from integrations.api.problems import Code, Conflict, Unprocessable
from integrations.models import IdempotentRequest
from integrations.services import idempotency

HEADER = "Idempotency-Key"
KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,255}")


class Replay(Exception):
    """The stored answer to send again instead of running the view."""

    def __init__(self, answer: idempotency.StoredAnswer) -> None:
        self.answer = answer


class KeyInUse(Conflict):
    def __init__(self) -> None:
        super().__init__(
            _("A request with this Idempotency-Key is still being answered; retry shortly."),
            code=Code.IDEMPOTENCY_KEY_IN_USE,
        )
        self.wait = 1  # DRF's handler sends it as Retry-After


def claim(request: Request) -> IdempotentRequest | None:
    """Claim the request's key (None without one); raise Replay, KeyInUse or a 422."""
    if request.method != "POST" or HEADER not in request.headers:
        return None
    key = request.headers[HEADER]
    if not KEY_SHAPE.fullmatch(key):
        raise ValidationError({HEADER: [_("Send 1 to 255 printable ASCII characters.")]})
    fingerprint = idempotency.request_fingerprint(
        method=request.method, path=request.get_full_path(), body=request.body
    )
    try:
        outcome = idempotency.idempotency_claim(
            organization=organization_of(request), key=key, fingerprint=fingerprint
        )
    except idempotency.KeyInUse:
        raise KeyInUse from None
    except idempotency.KeyReused:
        raise Unprocessable(
            _("This Idempotency-Key was sent with another request: use a new key."),
            code=Code.IDEMPOTENCY_KEY_REUSED,
        ) from None
    if isinstance(outcome, idempotency.StoredAnswer):
        raise Replay(outcome)
    return outcome


def replay(answer: idempotency.StoredAnswer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    if answer.location:
        response["Location"] = answer.location
    response["Idempotent-Replayed"] = "true"
    return response


def complete(claimed: IdempotentRequest, response: Any) -> None:
    """Store the answer (rendered now) for the retries."""
    if isinstance(response, Response) and not response.is_rendered:
        response.render()
    idempotency.idempotency_complete(
        claim=claimed,
        status=response.status_code,
        content_type=response.get("Content-Type", ""),
        location=response.get("Location", ""),
        body=response.content.decode(),
    )
