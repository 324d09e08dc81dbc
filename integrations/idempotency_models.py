"""What the API remembers of a POST sent with an `Idempotency-Key` (for 24 hours)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.organizations.models import Organization


class IdempotentRequest(models.Model):
    """The first request sent with a key, and once it has been answered, its answer.

    Keys are the organization's own: another organization's same key is another row.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    # SHA-256 of the method, the path and the body: the same key with another request is a 422.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    # Null while the first request runs.
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=2000, blank=True)
    body = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key"], name="idempotent_request_unique_key"
            )
        ]
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")

    def __str__(self) -> str:
        return f"{self.key} ({self.status or 'running'})"
