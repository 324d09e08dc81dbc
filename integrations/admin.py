"""Support staff's view of integrations, companies, connections and history: never a secret.

Secrets are EncryptedTextFields (not editable), so no admin form ever holds one; they
show only as "set · last four" or "not set", and they are neither listed, searched nor
recorded in the admin's change history. Support changes go through the actions below,
which call the services and record who did it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from . import models
from .crypto import DecryptionError
from .forms.support import SupportReasonForm
from .history import history_details_text
from .services.connections import connection_mark_for_relink
from .services.credentials import integration_disable


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


@dataclass(frozen=True)
class SupportAction:
    """A change support makes to one record, with a reason, through a confirmation page."""

    name: str  # the changelist action's name; its page is <object>/<slug>/
    slug: str
    permission: str  # has_<permission>_permission
    label: Any  # the button and the page's title
    question: Callable[[int], str]  # asked on the page, for a count
    applies: Callable[[Any], bool]  # whether the record can take it now
    run: Callable[..., bool]  # (obj, actor=, note=) -> whether it changed obj
    done: Callable[[int], str]  # "%(count)d ... done." for a count


class SupportActionMixin:
    """`support_action` from the change form's tools and the changelist, confirmed with a reason.

    Nothing changes before the confirmation page is posted back with a reason
    (Django's pattern for intermediate action pages).
    """

    support_action: SupportAction
    change_form_template = "admin/integrations/support_change_form.html"

    def get_urls(self):
        opts, action = self.opts, self.support_action
        name = f"{opts.app_label}_{opts.model_name}_{action.slug.replace('-', '_')}"
        view = self.admin_site.admin_view(self.support_action_view)
        return [path(f"<path:object_id>/{action.slug}/", view, name=name), *super().get_urls()]

    def may_act(self, request) -> bool:
        return getattr(self, f"has_{self.support_action.permission}_permission")(request)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        action = self.support_action
        if obj is not None and self.may_act(request) and action.applies(obj):
            opts = self.opts
            name = f"admin:{opts.app_label}_{opts.model_name}_{action.slug.replace('-', '_')}"
            context["support_action"] = {"url": reverse(name, args=[obj.pk]), "label": action.label}
        return super().render_change_form(request, context, add, change, form_url, obj)

    def support_action_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.may_act(request):
            raise PermissionDenied
        if not self.support_action.applies(obj):  # done meanwhile, or never possible
            self.message_user(request, self.support_action.done(0) % {"count": 0}, messages.WARNING)
            return HttpResponseRedirect(self._change_url(obj))
        return self.confirm_support_action(request, [obj], one=obj)

    def _change_url(self, obj) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])

    def confirm_support_action(self, request, objects, *, one=None):
        """The confirmation page; on its valid POST, the change (then None or a redirect)."""
        action = self.support_action
        form = SupportReasonForm(request.POST if request.POST.get("post") else None)
        if form.is_valid():
            note = form.cleaned_data["reason"]
            done = sum(bool(action.run(obj, actor=request.user, note=note)) for obj in objects)
            level = messages.SUCCESS if done else messages.WARNING
            self.message_user(request, action.done(done) % {"count": done}, level)
            if one is None:
                return None  # back to the changelist
            return HttpResponseRedirect(self._change_url(one))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": action.label,
            "question": action.question(len(objects)),
            "objects": objects,
            "one": one,
            "form": form,
            "action_name": action.name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/integrations/support_action.html", context)


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
class IntegrationAdmin(SupportActionMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "organization", "platform", "enabled", "new_links_api_version"]
    list_filter = ["enabled", "platform", "new_links_api_version"]
    search_fields = ["organization__name", "credential_sets__client_id"]
    list_select_related = ["organization"]
    readonly_fields = [
        "organization",
        "platform",
        "enabled",
        "new_links_api_version",
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
    readonly_fields = ["organization", "created_by", "created_at", "updated_at"]
    fields = ["name", "organization", "created_by", "link_expires_at", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Connection)
class ConnectionAdmin(SupportActionMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
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
    list_filter = ["status", "api_version", "country"]
    search_fields = ["company__name", "company__organization__name", "business_name", "business_id"]
    list_select_related = ["company__organization"]
    readonly_fields = (
        "company",
        "integration",
        "credential_set",
        "status",
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
        applies=lambda connection: connection.can_move_to(models.Connection.Status.DEAUTHORIZED),
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
                        e.get_kind_display(),
                        e.actor.email if e.actor else gettext("system"),
                        history_details_text(e),
                    )
                    for e in events
                ),
            )
            or "—"
        )

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
