"""Support staff's view of integrations, companies, connections and history: never a secret.

Secrets are EncryptedTextFields (not editable), so no admin form ever holds one; they
show only as "set · last four" or "not set", and they are neither listed, searched nor
recorded in the admin's change history. Support changes go through the actions below,
which call the services and record who did it.
"""

from django.contrib import admin
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from integrations import models
from integrations.admin_support import SupportAction, SupportActionAdmin
from integrations.audit.history import history_details_text
from integrations.configuration.services import integration_disable
from integrations.connections.lifecycle import connection_mark_for_relink
from integrations.connections.selectors import connection_state_of
from integrations.connections.states import Action, actions_of, event_what, event_who
from integrations.crypto import DecryptionError


def secret_status(obj, name: str, *, last_four: bool = True) -> str:
    """Return "•••• 1a2b" (as the settings page masks it), "set" or "not set"."""
    if not obj.__dict__.get(name):
        return gettext("not set")
    if not last_four:
        return gettext("set")
    try:
        return models.mask_secret(getattr(obj, name))
    except DecryptionError:
        return gettext("set · unreadable with the current keys")


class ReadOnlyAdminMixin:
    """Nothing is added, changed or deleted through the forms: support acts through actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CredentialSetInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = models.CredentialSet
    extra = 0
    readonly_fields = (
        "api_version",
        "client_id",
        "client_secret_status",
        "signing_secret_status",
        "subscription_key_status",
        "updated_at",
    )
    fields = readonly_fields

    @admin.display(description=_("Client secret"))
    def client_secret_status(self, obj):
        return secret_status(obj, "client_secret")

    @admin.display(description=_("Signing secret"))
    def signing_secret_status(self, obj):
        return secret_status(obj, "signing_secret")

    @admin.display(description=_("Subscription key"))
    def subscription_key_status(self, obj):
        return secret_status(obj, "subscription_key")


@admin.register(models.Integration)
class IntegrationAdmin(ReadOnlyAdminMixin, SupportActionAdmin):
    list_display = ["__str__", "organization", "platform", "enabled", "new_links_api_version"]
    list_filter = ["enabled", "platform", "new_links_api_version"]
    search_fields = ["organization__name", "credential_sets__client_id"]
    list_select_related = ["organization"]
    readonly_fields = [
        "organization",
        "platform",
        "enabled",
        "new_links_api_version",
        "redirect_url",
        "created_at",
        "updated_at",
    ]
    inlines = [CredentialSetInline]
    actions = ["disable_integration"]
    support_action = SupportAction(
        name="disable_integration",
        slug="disable",
        permission="disable",
        label=_("Disable integration"),
        question=lambda n: ngettext(
            "Disable this integration? Its companies cannot link until an admin of the"
            " organization enables it again.",
            "Disable these integrations? Their companies cannot link until an admin of the"
            " organization enables it again.",
            n,
        ),
        applies=lambda integration: integration.enabled,
        run=lambda integration, **kw: integration_disable(
            integration=integration, via=models.HistoryEvent.Via.ADMIN, **kw
        ),
        done=lambda n: ngettext(
            "%(count)d integration disabled.", "%(count)d integrations disabled.", n
        ),
    )

    def has_disable_permission(self, request) -> bool:
        return request.user.has_perm("integrations.change_integration")

    @admin.action(description=_("Disable integration"), permissions=["disable"])
    def disable_integration(self, request, queryset):
        return self.confirm_support_action(request, queryset)


@admin.register(models.Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "created_by", "link_expires_at", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization", "created_by"]
    # The redirect URL changes through the API (with its history event), not here.
    readonly_fields = ["organization", "created_by", "redirect_url", "created_at", "updated_at"]
    fields = [
        "name",
        "organization",
        "created_by",
        "link_expires_at",
        "redirect_url",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Connection)
class ConnectionAdmin(ReadOnlyAdminMixin, SupportActionAdmin):
    list_display = [
        "company",
        "organization",
        "status",
        "api_version",
        "country",
        "business_name",
        "last_refreshed_at",
        "updated_at",
    ]
    list_filter = ["status", "state", "api_version", "country"]
    search_fields = ["company__name", "company__organization__name", "business_name", "business_id"]
    list_select_related = ["company__organization"]
    readonly_fields = (
        "company",
        "integration",
        "credential_set",
        "status",
        "state_said",
        "country",
        "api_version",
        "business_id",
        "business_name",
        "resource_owner_id",
        "access_token_status",
        "refresh_token_status",
        "access_token_expires_at",
        "refresh_token_expires_at",
        "last_refreshed_at",
        "last_error",
        "created_at",
        "updated_at",
        "company_history",
    )
    fields = readonly_fields
    actions = ["mark_for_relink"]
    support_action = SupportAction(
        name="mark_for_relink",
        slug="mark-for-relink",
        permission="mark_for_relink",
        label=_("Mark connection for relink"),
        question=lambda n: ngettext(
            "Mark this connection for relink? Its tokens are dropped and revoked at Sage;"
            " the company must link again through its link URL.",
            "Mark these connections for relink? Their tokens are dropped and revoked at Sage;"
            " each company must link again through its link URL.",
            n,
        ),
        applies=lambda connection: Action.MARK_FOR_RELINK in actions_of(connection),
        run=lambda connection, **kw: connection_mark_for_relink(
            connection=connection, reason=models.HistoryEvent.Reason.SUPPORT, **kw
        ),
        done=lambda n: ngettext(
            "%(count)d connection marked for relink.",
            "%(count)d connections marked for relink.",
            n,
        ),
    )

    @admin.display(description=_("history"))
    def company_history(self, obj):
        events = models.HistoryEvent.objects.for_company(obj.company).select_related("actor")[:20]
        return (
            format_html_join(
                mark_safe("<br>"),  # noqa: S308 - a constant
                "{} · {} · {} · {}",
                (
                    (
                        date_format(e.created_at, "DATETIME_FORMAT"),
                        event_what(e),
                        event_who(e),
                        history_details_text(e),
                    )
                    for e in events
                ),
            )
            or "—"
        )

    @admin.display(description=_("state"))
    def state_said(self, obj):
        """The state as the organization's pages and the API say it."""
        answer = connection_state_of(obj)
        return f"{answer.word} · {answer.detail}" if answer.detail != answer.word else answer.word

    def has_mark_for_relink_permission(self, request) -> bool:
        return request.user.has_perm("integrations.change_connection")

    @admin.display(description=_("organization"), ordering="company__organization__name")
    def organization(self, obj):
        return obj.company.organization

    @admin.display(description=_("access token"))
    def access_token_status(self, obj):
        return secret_status(obj, "access_token", last_four=False)

    @admin.display(description=_("refresh token"))
    def refresh_token_status(self, obj):
        return secret_status(obj, "refresh_token", last_four=False)

    @admin.action(description=_("Mark connection for relink"), permissions=["mark_for_relink"])
    def mark_for_relink(self, request, queryset):
        return self.confirm_support_action(request, queryset)


@admin.register(models.AuthorizationRequest)
class AuthorizationRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "country", "created_at", "expires_at", "consumed_at"]
    list_filter = ["country"]
    search_fields = ["connection__company__name"]
    list_select_related = ["connection__company"]
    # Neither `state` nor the PKCE verifier: both would let someone finish the flow.
    readonly_fields = (
        "connection",
        "credential_set",
        "client_id",
        "country",
        "created_at",
        "expires_at",
        "consumed_at",
    )
    fields = readonly_fields


@admin.register(models.HistoryEvent)
class HistoryEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    columns = ("created_at", "kind", "organization", "integration", "company", "actor")
    list_display = columns
    list_filter = ["kind", "organization", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["organization__name", "company__name", "actor__email"]
    list_select_related = ["organization", "integration__organization", "company", "actor"]
    date_hierarchy = "created_at"
    readonly_fields = (*columns, "details_text")
    fields = readonly_fields

    @admin.display(description=_("details"))
    def details_text(self, obj):
        return history_details_text(obj)


# The library's own, unscoped key model is not used: keys belong to an organization.
admin.site.unregister(APIKey)


@admin.register(models.OrganizationAPIKey)
class OrganizationAPIKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Which keys an organization holds and whether they are used; never a key or its hash."""

    list_display = ("prefix", "name", "organization", "created", "last_used_at", "revoked")
    list_filter = ("revoked",)
    search_fields = ("prefix", "name", "organization__name")
    fields = ("prefix", "name", "organization", "created_by", "created", "last_used_at", "revoked")
    readonly_fields = fields
    list_select_related = ("organization",)


@admin.register(models.WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Endpoints of each organization; the signing secret is never shown."""

    list_display = ("url", "organization", "enabled", "failing_since", "created_at")
    list_filter = ("enabled",)
    search_fields = ("url", "organization__name")
    fields = readonly_fields = (
        "organization",
        "url",
        "events",
        "enabled",
        "failing_since",
        "disabled_at",
        "created_at",
        "updated_at",
    )
    list_select_related = ("organization",)


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The delivery log of every endpoint (payloads hold no secret)."""

    list_display = ("event_type", "endpoint", "state", "attempts", "last_status", "created_at")
    list_filter = ("state", "event_type")
    search_fields = ("message_id", "endpoint__url", "endpoint__organization__name")
    fields = readonly_fields = ("endpoint", *models.WebhookDelivery.LOG_FIELDS)
    list_select_related = ("endpoint",)
