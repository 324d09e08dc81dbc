"""Idempotency keys: a POST retried with the same key is answered once, then replayed.

The first request with a key claims it (a row, committed at once, unique per
organization and key); a concurrent retry finds the claim and is told to retry
(409), a later one gets the stored answer, a retry with another body is refused
(422). An answer of 5xx releases the key, so that the retry runs again. Records
are kept `RETENTION` (24 hours), then purged by the housekeeping task.

Own code rather than a library: the candidates on PyPI (django-idempotency-key,
last release 2023 for Django <= 4.2; drf-idempotency and drf-idempotencykey, one
young release each) do not scope keys by our tenant, nor answer our problem shape.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import IdempotentRequest
from portal.organizations.models import Organization

RETENTION = timedelta(hours=24)
# A claim whose request has not answered after this long is taken to be lost (its
# worker died) and may be claimed again.
ABANDONED_AFTER = timedelta(minutes=2)


class KeyInUse(Exception):
    """The first request with this key is still running."""


class KeyReused(Exception):
    """This key was sent with another request."""


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    content_type: str
    location: str
    body: str


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotency_claim(
    *, organization: Organization, key: str, fingerprint: str
) -> IdempotentRequest | StoredAnswer:
    """Claim `key` for this request (the claim to complete), or the answer to replay.

    Raises KeyInUse while the first request runs, KeyReused for another request.
    """
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(
                    organization=organization, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            pass
        existing = IdempotentRequest.objects.filter(organization=organization, key=key).first()
        if existing is None:
            continue  # released meanwhile: claim it again
        now = timezone.now()
        stale = existing.created_at < now - (
            ABANDONED_AFTER if existing.status is None else RETENTION
        )
        if stale:
            IdempotentRequest.objects.filter(
                pk=existing.pk, created_at=existing.created_at
            ).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise KeyReused
        if existing.status is None:
            raise KeyInUse
        return StoredAnswer(
            status=existing.status,
            content_type=existing.content_type,
            location=existing.location,
            body=existing.body,
        )
    raise KeyInUse  # claimed and released by others twice meanwhile: retry later


def idempotency_complete(
    *, claim: IdempotentRequest, status: int, content_type: str, location: str, body: str
) -> None:
    """Store the answer to replay; a server error releases the key instead."""
    if status >= 500:
        IdempotentRequest.objects.filter(pk=claim.pk).delete()
        return
    IdempotentRequest.objects.filter(pk=claim.pk).update(
        status=status, content_type=content_type, location=location, body=body
    )


def idempotency_purge() -> int:
    """Delete the records older than RETENTION; how many."""
    deleted, _by_model = IdempotentRequest.objects.filter(
        created_at__lt=timezone.now() - RETENTION
    ).delete()
    return deleted
