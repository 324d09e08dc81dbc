"""The audit log: who did what, when (imported by integrations.models, app label
`integrations`). Every feature writes it through `integrations.audit.history.history_record`."""

from typing import Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.organizations.models import Organization, OrganizationScopedQuerySet


# The audit log knows the rows it points to by name only ("integrations.Company"): the
# integrations' models import this module, never the other way round.
class HistoryEventQuerySet(OrganizationScopedQuerySet["HistoryEvent"]):
    def for_integration(self, integration: models.Model) -> Self:
        """The integration's own events (settings, enable, checks), not its companies'."""
        return self.filter(integration=integration, company__isnull=True)

    def for_company(self, company: models.Model) -> Self:
        return self.filter(company=company)


class HistoryEvent(models.Model):
    """Who did what, when; never a secret value."""

    class Kind(models.TextChoices):
        CREDENTIALS_CHANGED = "credentials_changed", _("Credentials changed")
        CREDENTIAL_TYPE_CHANGED = "credential_type_changed", _("Credential type changed")
        ENABLED = "enabled", _("Integration enabled")
        DISABLED = "disabled", _("Integration disabled")
        CREDENTIALS_CHECKED = "credentials_checked", _("Credentials checked")
        COMPANY_CREATED = "company_created", _("Company created")
        COMPANY_UPDATED = "company_updated", _("Company updated")
        COMPANY_DELETED = "company_deleted", _("Company deleted")
        LINK_RENEWED = "link_renewed", _("Link URL renewed")
        LINK_STARTED = "link_started", _("Link started")
        LINKED = "linked", _("Linked")
        LINK_FAILED = "link_failed", _("Link failed")
        UNLINKED = "unlinked", _("Unlinked")
        DEAUTHORIZED = "deauthorized", _("Deauthorized")
        REFRESHED = "refreshed", _("Tokens refreshed")
        REFRESH_FAILED = "refresh_failed", _("Token refresh failed")
        MARKED_FOR_RELINK = "marked_for_relink", _("Marked for relink")
        API_KEY_CREATED = "api_key_created", _("API key created")
        API_KEY_REVOKED = "api_key_revoked", _("API key revoked")
        WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint_created", _("Webhook endpoint added")
        WEBHOOK_ENDPOINT_UPDATED = "webhook_endpoint_updated", _("Webhook endpoint changed")
        WEBHOOK_SECRET_ROTATED = "webhook_secret_rotated", _("Webhook signing secret rotated")
        WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint_deleted", _("Webhook endpoint deleted")
        WEBHOOK_ENDPOINT_DISABLED = (
            "webhook_endpoint_disabled",
            _("Webhook endpoint disabled after failing"),
        )
        REDIRECT_URL_CHANGED = "redirect_url_changed", _("Redirect URL changed")
        MEMBER_INVITED = "member_invited", _("Member invited")
        INVITATION_RESENT = "invitation_resent", _("Invitation sent again")
        INVITATION_REVOKED = "invitation_revoked", _("Invitation revoked")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        MEMBER_ROLE_CHANGED = "member_role_changed", _("Member's role changed")
        MEMBER_REMOVED = "member_removed", _("Member removed")
        TWO_FACTOR_REQUIREMENT_CHANGED = (
            "two_factor_requirement_changed",
            _("Two-factor requirement for admins changed"),
        )
        SYNC_SCHEDULE_CHANGED = "sync_schedule_changed", _("Sync schedule changed")

    class Reason(models.TextChoices):
        """Why a connection was deauthorized or marked for relink (`details["reason"]`)."""

        CLIENT_ID_CHANGED = "client_id_changed", _("The integration's client ID changed")
        INVALID_GRANT = "invalid_grant", _("Sage refused the refresh token")
        SUPPORT = "support", _("Support")

    class Via(models.TextChoices):
        """Where an integration was disabled from (`details["via"]`)."""

        PORTAL = "portal", _("Portal")
        ADMIN = "admin", _("Admin")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="history",
        verbose_name=_("organization"),
    )
    integration = models.ForeignKey(
        "integrations.Integration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="history",
        verbose_name=_("integration"),
    )
    company = models.ForeignKey(
        "integrations.Company",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="history",
        verbose_name=_("company"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    kind = models.CharField(_("event"), max_length=40, choices=Kind.choices)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    objects = HistoryEventQuerySet.as_manager()
    # Not columns: set on the events that selectors.integration_history returns.
    field_labels: list[str]
    check_label: str

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("history event")
        verbose_name_plural = _("history events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"
