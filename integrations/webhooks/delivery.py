"""Delivering webhooks: one attempt at a time, retried with backoff, and the periodic sweep.

An attempt first claims its delivery with a conditional UPDATE (a lease as long as
the timeout and a margin), so that two workers never send one attempt twice and a
worker lost mid-attempt leaves the delivery to the sweep. The endpoint's URL is
checked again, and resolved, at every attempt (webhook_http connects to the address
it checked). Timeouts, connection errors, 429 and 5xx are retried after
WEBHOOKS_RETRY_DELAYS; any other answer is final. An endpoint failing for
WEBHOOKS_DISABLE_AFTER_DAYS is disabled and its organization's admins are mailed.

The `deliver_webhook` task lives here, beside the service it runs, because the
services enqueue it (tasks.py, above the services, re-exports it with the others).
"""

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_variables

from integrations.audit.history import history_record
from integrations.crypto import DecryptionError
from integrations.models import HistoryEvent
from integrations.webhooks.http import Failure, Refusal, UnsafeUrl, post_signed, resolve
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from portal.organizations.models import Membership

logger = logging.getLogger(__name__)

# What `last_error` says (a code, never a secret or a response body).
ENDPOINT_DISABLED = "endpoint_disabled"
SECRET_UNREADABLE = "secret_unreadable"
LEASE_MARGIN = timedelta(seconds=30)


@task
def deliver_webhook(delivery_id: str) -> str:
    """Make the delivery's next attempt if it is due; return its state afterwards."""
    return str(webhook_attempt(delivery_id=delivery_id) or "not_due")


def webhook_enqueue(delivery: WebhookDelivery) -> None:
    """Enqueue the delivery's next attempt, deferred to `next_attempt_at` when the backend can."""
    when = delivery.next_attempt_at
    backend = deliver_webhook.get_backend()
    if when is not None and when > timezone.now():
        if not backend.supports_defer:
            return  # the sweep will enqueue it when it is due
        deliver_webhook.using(run_after=when).enqueue(str(delivery.pk))
    else:
        deliver_webhook.enqueue(str(delivery.pk))


def _enqueue_all(deliveries: list[WebhookDelivery]) -> None:
    for delivery in deliveries:
        webhook_enqueue(delivery)


def webhook_enqueue_after_commit(deliveries: Iterable[WebhookDelivery]) -> None:
    """Enqueue the deliveries once the current transaction commits (never if it rolls back)."""
    transaction.on_commit(partial(_enqueue_all, list(deliveries)))


def _claim(delivery_id: str, now: datetime) -> WebhookDelivery | None:
    lease = timedelta(seconds=settings.WEBHOOKS_TIMEOUT) + LEASE_MARGIN
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + lease)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint__organization").get(pk=delivery_id)


def _retryable(status: int | None, failure: Failure | None, refusal: Refusal | None) -> bool:
    if refusal is not None:
        return refusal == Refusal.UNRESOLVABLE  # DNS may come back; a forbidden address not
    if failure is not None or status is None:
        return True
    return status == 429 or status >= 500


@sensitive_variables("secret")
def webhook_attempt(*, delivery_id: str) -> WebhookDelivery.State | None:
    """Send the delivery once if it is due; None when it was not (or another worker has it)."""
    now = timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    try:
        secret = endpoint.signing_secret
    except DecryptionError:
        logger.error(
            "The signing secret of webhook endpoint %s cannot be read with the current "
            "encryption keys: rotate it on its page.",
            endpoint.pk,
        )
        return _give_up(delivery, SECRET_UNREADABLE)
    if not endpoint.enabled:
        return _give_up(delivery, ENDPOINT_DISABLED)
    status, failure, refusal, duration = None, None, None, None
    try:
        target = resolve(endpoint.url, allow_loopback_http=settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP)
    except UnsafeUrl as error:
        refusal = error.refusal
    else:
        answer = post_signed(
            target,
            secret=secret,
            message_id=delivery.message_id,
            body=json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True),
            timeout=settings.WEBHOOKS_TIMEOUT,
            ca_certs=settings.WEBHOOKS_CA_CERTS or None,
        )
        status, failure, duration = answer.status, answer.failure, answer.duration_ms
    _record_attempt(
        delivery, now, status=status, duration=duration, failure=failure, refusal=refusal
    )
    if delivery.state == WebhookDelivery.State.PENDING:
        webhook_enqueue(delivery)
    return WebhookDelivery.State(delivery.state)


def _give_up(delivery: WebhookDelivery, error: str) -> WebhookDelivery.State:
    """Fail the delivery without an attempt (nothing was sent)."""
    delivery.state = WebhookDelivery.State.FAILED
    delivery.next_attempt_at = None
    delivery.last_error = error
    delivery.save(update_fields=["state", "next_attempt_at", "last_error"])
    return WebhookDelivery.State.FAILED


def _record_attempt(
    delivery: WebhookDelivery,
    now: datetime,
    *,
    status: int | None,
    duration: int | None,
    failure: Failure | None,
    refusal: Refusal | None,
) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status = status
    delivery.last_duration_ms = duration
    delivery.last_error = str(refusal or failure or "")
    delays = settings.WEBHOOKS_RETRY_DELAYS
    if status is not None and 200 <= status < 300:
        delivery.state = WebhookDelivery.State.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
    elif _retryable(status, failure, refusal) and delivery.retry_step < len(delays):
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=delays[delivery.retry_step])
        delivery.retry_step += 1
    else:
        delivery.state = WebhookDelivery.State.FAILED
        delivery.next_attempt_at = None
    delivery.save()
    endpoint = delivery.endpoint
    if delivery.state == WebhookDelivery.State.DELIVERED:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(
            failing_since=None
        )
        return
    logger.info(
        "Webhook %s to endpoint %s failed (status %s, %s)",
        delivery.message_id,
        endpoint.pk,
        status,
        delivery.last_error or "-",
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    endpoint.refresh_from_db(fields=["failing_since", "enabled"])
    webhook_endpoint_disable_if_failing(endpoint=endpoint)


def webhook_endpoint_disable_if_failing(*, endpoint: WebhookEndpoint) -> bool:
    """Disable an endpoint failing for WEBHOOKS_DISABLE_AFTER_DAYS and mail the admins."""
    limit = timezone.now() - timedelta(days=settings.WEBHOOKS_DISABLE_AFTER_DAYS)
    if endpoint.failing_since is None or endpoint.failing_since > limit:
        return False
    with transaction.atomic():
        disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
            enabled=False, disabled_at=timezone.now()
        )
        if not disabled:
            return False
        endpoint.enabled = False
        history_record(
            organization=endpoint.organization,
            kind=HistoryEvent.Kind.WEBHOOK_ENDPOINT_DISABLED,
            details={"url": endpoint.url},
        )
    _mail_admins(endpoint)
    return True


def _mail_admins(endpoint: WebhookEndpoint) -> None:
    recipients = Membership.objects.admin_emails(endpoint.organization)
    if not recipients:
        return
    days = settings.WEBHOOKS_DISABLE_AFTER_DAYS
    subject = gettext("Webhook endpoint disabled: %(url)s") % {"url": endpoint.url}
    body = gettext(
        "Every delivery to the webhook endpoint %(url)s of %(organization)s has failed for "
        "%(days)s days, so the portal has disabled it. Fix the endpoint, then enable it "
        "again in Settings › Webhooks; failed deliveries can be resent from its delivery log."
    ) % {"url": endpoint.url, "organization": endpoint.organization.name, "days": days}
    try:
        send_mail(subject, body, None, recipients)
    except Exception:  # noqa: BLE001 - the endpoint is disabled all the same; the log says so
        logger.exception("Could not mail the admins about webhook endpoint %s", endpoint.pk)


def webhooks_sweep() -> int:
    """Enqueue every delivery that is due (lost, or waiting on a backend that cannot defer)."""
    ids = list(WebhookDelivery.objects.due().values_list("pk", flat=True)[:1000])
    for pk in ids:
        deliver_webhook.enqueue(str(pk))
    return len(ids)
