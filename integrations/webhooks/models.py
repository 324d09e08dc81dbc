"""Webhook endpoints of an organization and the deliveries made to them (imported by models).

An endpoint's signing secret is encrypted at rest and shown once; a delivery keeps its
message id (`msg_…`) across every attempt, so that receivers can de-duplicate.
"""

import base64
import secrets
import uuid
from typing import Self

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations.fields import EncryptedTextField
from portal.organizations.models import Organization, OrganizationScopedQuerySet


class WebhookEvent(models.TextChoices):
    """The events an endpoint can subscribe to (`type` in the payload)."""

    COMPANY_CREATED = "company.created", _("A company was created")
    COMPANY_DELETED = "company.deleted", _("A company was deleted")
    CONNECTION_LINKED = "connection.linked", _("A company linked its Sage business")
    CONNECTION_RELINKED = "connection.relinked", _("A company linked its Sage business again")
    CONNECTION_DEAUTHORIZED = "connection.deauthorized", _("Sage no longer accepts a connection")
    CONNECTION_UNLINKED = "connection.unlinked", _("A connection was unlinked")
    CONNECTION_REFRESH_FAILED = "connection.refresh_failed", _("A token refresh failed")
    LINK_FAILED = "link.failed", _("A link was cancelled or failed")
    SYNC_COMPLETED = "sync.completed", _("A sync of a company's Sage data ended")
    DATA_CHANGED = "data.changed", _("A company's Sage data changed")


# Sent by "Send a test event" only, whatever the endpoint subscribes to.
TEST_EVENT = "webhook.test"


def new_signing_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookEndpointQuerySet(OrganizationScopedQuerySet["WebhookEndpoint"]):
    def enabled(self) -> Self:
        return self.filter(enabled=True)


class WebhookEndpoint(models.Model):
    """A URL of the platform's backend that hears about the events it subscribes to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("organization"),
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    signing_secret = EncryptedTextField(_("signing secret"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Since the first failed attempt with no success after it; None while it works.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled automatically"), null=True, blank=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event: str) -> bool:
        return event in self.events

    def event_labels(self) -> list[str]:
        return [str(WebhookEvent(e).label) for e in self.events if e in WebhookEvent.values]


class WebhookDeliveryQuerySet(OrganizationScopedQuerySet["WebhookDelivery"]):
    organization_path = "endpoint__organization"

    def due(self) -> Self:
        return self.filter(
            state=WebhookDelivery.State.PENDING, next_attempt_at__lte=timezone.now()
        ).order_by("next_attempt_at")


class WebhookDelivery(models.Model):
    """One event for one endpoint, and how its attempts went (never a secret)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    # What the delivery log shows of a delivery, to support (the admin) and to the
    # platform (the webhooks API): one list.
    LOG_FIELDS = (
        "message_id",
        "event_type",
        "state",
        "attempts",
        "last_status",
        "last_duration_ms",
        "last_error",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "payload",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    message_id = models.CharField(_("message ID"), max_length=40, default=new_message_id)
    event_type = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Failed attempts since the event was sent (or resent): the step of the retry schedule.
    retry_step = models.PositiveIntegerField(_("retry step"), default=0)
    last_status = models.PositiveIntegerField(_("response status"), null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhookdelivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} · {self.message_id}"

    # The words of `last_error`'s codes (webhooks.http's Failure and Refusal, and
    # webhooks.delivery's reasons to give up), as the delivery log shows them.
    ERROR_WORDS = {
        "timeout": _("Timed out"),
        "connection_error": _("Could not connect"),
        "not_https": _("Refused: not an https:// address"),
        "no_host": _("Refused: the address has no host"),
        "credentials": _("Refused: the address holds a user name or password"),
        "unresolvable": _("Could not find the host"),
        "forbidden_address": _("Refused: the host's address is not public"),
        "endpoint_disabled": _("Not sent: the endpoint is stopped"),
        "secret_unreadable": _("Not sent: the signing secret cannot be read"),
    }

    @property
    def state_label(self) -> str:
        """The state in words: a retry says which attempt comes next, of how many."""
        if self.state == self.State.PENDING and self.retry_step:
            return gettext("Retrying (attempt %(number)d of %(total)d)") % {
                "number": self.retry_step + 1,
                "total": len(settings.WEBHOOKS_RETRY_DELAYS) + 1,
            }
        return str(self.get_state_display())

    @property
    def error_label(self) -> str:
        """What went wrong in words ("Could not connect"), not the stored code."""
        return str(self.ERROR_WORDS.get(self.last_error, self.last_error))


class PlatformEventQuerySet(OrganizationScopedQuerySet["PlatformEvent"]):
    pass


class PlatformEvent(models.Model):
    """An event as told to the platform: the payload its webhooks get, kept for the feed.

    `sequence` counts the company's events (1, 2, ...), given in the transaction that
    makes the event, so that a receiver can put them in order (deliveries are retried
    and may arrive out of order). `company_id` is a plain number, not a foreign key:
    the events of a deleted company stay in the feed, `company.deleted` last.
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organization"),
    )
    company_id = models.BigIntegerField(_("company"))
    sequence = models.PositiveBigIntegerField(_("sequence"))
    type = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    objects = PlatformEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.UniqueConstraint(
                fields=["company_id", "sequence"], name="platformevent_company_sequence"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "id"], name="platformevent_org_id"),
        ]

    def __str__(self) -> str:
        return f"{self.type} · {self.company_id} #{self.sequence}"


class EventSequence(models.Model):
    """The last `sequence` given to a company's events (webhooks/services.py).

    A counter of its own, not the greatest number among the kept events: those are
    deleted after EVENTS_RETENTION_DAYS, and a company's numbers must go on from where
    they were, never start again at 1. One statement gives the next number and holds
    the row until the transaction ends, so that a company's events are numbered (and
    committed) one after the other.
    """

    company = models.OneToOneField(
        "integrations.Company",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("company"),
    )
    last = models.PositiveBigIntegerField(_("last sequence"))

    class Meta:
        verbose_name = _("event sequence")
        verbose_name_plural = _("event sequences")

    def __str__(self) -> str:
        return f"{self.company_id} #{self.last}"


class WorkerHeartbeat(models.Model):
    """When a task worker last started a task (services/worker.py): one row per worker."""

    worker = models.CharField(_("worker"), max_length=200, primary_key=True)
    seen_at = models.DateTimeField(_("seen"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.worker
