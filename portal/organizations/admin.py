from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.organizations.forms import InviteForm
from portal.organizations.models import Invitation, Membership, Organization
from portal.organizations.services import TeamError, invitation_create, sent_words


class MembershipInline(admin.TabularInline[Membership, Organization]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class InvitationInline(admin.TabularInline[Invitation, Organization]):
    """The organization's invitations, read only (their token is never stored in clear)."""

    model = Invitation
    extra = 0
    max_num = 0
    can_delete = False
    fields = readonly_fields = (
        "email",
        "role",
        "status",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )

    @admin.display(description=gettext_lazy("status"))
    def status(self, obj: Invitation) -> str:
        return str(obj.status.label) if obj.pk else ""


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ["name", "require_two_factor_for_admins", "created_at"]
    search_fields = ["name", "memberships__user__email"]
    # The logo is uploaded on Settings › Branding, which decodes and re-encodes it:
    # a file stored from here would skip that (an SVG, say), so the admin never edits it.
    exclude = ["logo"]
    inlines = [MembershipInline, InvitationInline]
    change_form_template = "admin/portal/organization/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        invite = self.admin_site.admin_view(self.invite_view)
        return [
            path("<path:object_id>/invite/", invite, name="portal_organization_invite"),
            *super().get_urls(),
        ]

    def invite_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Invite member: the same invitation (and email) as an admin's on the Team page."""
        organization = self.get_object(request, object_id)
        if organization is None:
            raise Http404("No such organization")
        if not self.has_change_permission(request, organization):
            raise PermissionDenied
        form = InviteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                sent = invitation_create(
                    organization=organization,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    actor=request.user,
                    language=form.cleaned_data["language"],
                )
            except TeamError as error:
                form.add_error("email", error.message)
            else:
                level = messages.SUCCESS if sent.emailed else messages.WARNING
                self.message_user(request, sent_words(sent), level)
                return redirect(reverse("admin:portal_organization_change", args=[organization.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": organization,
            "form": form,
            "title": _("Invite a member to %(name)s") % {"name": organization.name},
        }
        return TemplateResponse(request, "admin/portal/organization/invite.html", context)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]


# allauth's own admin shows an authenticator's data: its TOTP secret and recovery codes.
# Support sees who has which kind, and may delete one (a lost phone), nothing more.
if admin.site.is_registered(Authenticator):
    admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin[Authenticator]):
    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type"]
    search_fields = ["user__email"]
    fields = readonly_fields = ("user", "type", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Authenticator | None = None) -> bool:
        return False
