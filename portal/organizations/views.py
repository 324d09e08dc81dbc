"""Settings › Team: members and their roles, invitations, the two-factor rule.

Members read the list (and so who the admins are); admins invite, change roles,
remove members and require two-factor sign-in. The invitation's own pages
(`invitation_open`, `invitation_accept`) need no login: the link is the key.
"""

from allauth.account.adapter import get_adapter
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from integrations.audit.history import history_details_text
from portal.failed_posts import form_after_failure, redirect_after_failure
from portal.organizations import selectors
from portal.organizations import services as service
from portal.organizations.adapters import INVITATION_SESSION_KEY, account_exists, pending_invitation
from portal.organizations.forms import InviteForm, RoleForm, TwoFactorRuleForm
from portal.organizations.models import Invitation, Membership
from portal.organizations.tenancy import (
    SESSION_KEY,
    MemberRequest,
    admin_required,
    member_required,
)


def _page(request: MemberRequest, *, invite_form: InviteForm | None = None) -> HttpResponse:
    organization = request.organization
    members = selectors.team_members(organization=organization)
    is_admin = request.membership.is_admin
    context = {
        "members": members,
        "admins": [m for m in members if m.is_admin],
        "invite_form": invite_form or InviteForm(),
        "role_form": RoleForm(),
        "two_factor_form": TwoFactorRuleForm(
            initial={"required": organization.require_two_factor_for_admins}
        ),
        "invitations": selectors.team_invitations(organization=organization) if is_admin else (),
        "history": [
            (event, history_details_text(event))
            for event in (selectors.team_history(organization=organization) if is_admin else ())
        ],
        "invitation_days": settings.INVITATION_LIFETIME_DAYS,
    }
    return render(request, "team/team.html", context)


def _member(request: MemberRequest, pk: int) -> Membership:
    membership = (
        Membership.objects.filter(organization=request.organization, pk=pk)
        .select_related("user", "organization")
        .first()
    )
    if membership is None:
        raise Http404("No such member")
    return membership


def _invitation(request: MemberRequest, pk: int) -> Invitation:
    invitation = (
        Invitation.objects.for_org(request.organization)
        .select_related("organization", "invited_by")
        .filter(pk=pk)
        .first()
    )
    if invitation is None:
        raise Http404("No such invitation")
    return invitation


@member_required
@never_cache
def team(request: MemberRequest) -> HttpResponse:
    return _page(request, invite_form=form_after_failure(request, InviteForm))


@admin_required
@require_POST
def team_invite(request: MemberRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            sent = service.invitation_create(
                organization=request.organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=request.user,
                language=form.cleaned_data["language"],
            )
        except service.TeamError as error:
            form.add_error("email", error.message)
    if not form.is_valid():
        return redirect_after_failure(request, form, to=reverse("integrations:team"))
    level = messages.SUCCESS if sent.emailed else messages.WARNING
    messages.add_message(request, level, service.sent_words(sent))
    return redirect("integrations:team")


@admin_required
@require_POST
def invitation_resend(request: MemberRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk)
    try:
        sent = service.invitation_resend(invitation=invitation, actor=request.user)
    except service.TeamError as error:
        messages.error(request, error.message)
    else:
        level = messages.SUCCESS if sent.emailed else messages.WARNING
        messages.add_message(request, level, service.sent_words(sent, again=True))
    return redirect("integrations:team")


@admin_required
@require_POST
def invitation_revoke(request: MemberRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk)
    if service.invitation_revoke(invitation=invitation, actor=request.user):
        messages.success(
            request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email}
        )
    return redirect("integrations:team")


@admin_required
@require_POST
def member_role(request: MemberRequest, pk: int) -> HttpResponse:
    membership = _member(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role from the list."))
        return redirect("integrations:team")
    try:
        changed = service.member_role_change(
            membership=membership, role=form.cleaned_data["role"], actor=request.user
        )
    except service.TeamError as error:
        messages.error(request, error.message)
    else:
        if changed:
            messages.success(
                request,
                _("%(email)s is now %(role)s.")
                % {"email": membership.user.email, "role": membership.get_role_display()},
            )
    return redirect("integrations:team")


@admin_required
@require_http_methods(["GET", "POST"])
def member_remove(request: MemberRequest, pk: int) -> HttpResponse:
    membership = _member(request, pk)
    if request.method == "GET":
        return render(request, "team/member_remove_confirm.html", {"member": membership})
    try:
        service.member_remove(membership=membership, actor=request.user)
    except service.TeamError as error:
        messages.error(request, error.message)
        return redirect("integrations:team")
    messages.success(
        request,
        _("%(email)s was removed from %(organization)s.")
        % {"email": membership.user.email, "organization": membership.organization.name},
    )
    # An admin who removed themselves has no business on this page any more.
    return redirect("home" if membership.user_id == request.user.pk else "integrations:team")


@admin_required
@require_POST
def two_factor_rule(request: MemberRequest) -> HttpResponse:
    form = TwoFactorRuleForm(request.POST)
    required = form.is_valid() and form.cleaned_data["required"]
    if required and not get_mfa_adapter().is_mfa_enabled(request.user):
        messages.error(
            request,
            _("Set up two-factor sign-in for yourself first (your menu › Two-factor sign-in)."),
        )
        return redirect("integrations:team")
    if service.two_factor_requirement_set(
        organization=request.organization, required=required, actor=request.user
    ):
        messages.success(
            request,
            _("Admins must now use two-factor sign-in.")
            if required
            else _("Two-factor sign-in is no longer required for admins."),
        )
    return redirect("integrations:team")


# The invitee's pages: no login, the link is the key.


def _unusable(request: HttpRequest, invitation: Invitation | None) -> HttpResponse:
    status = invitation.status if invitation is not None else None
    context = {
        "unknown": status is None,
        "accepted": status == Invitation.Status.ACCEPTED,
        "revoked": status == Invitation.Status.REVOKED,
        "expired": status == Invitation.Status.EXPIRED,
    }
    code = 404 if status is None else 410
    return render(request, "team/invitation_unusable.html", context, status=code)


@never_cache
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    """The email's link: remember the invitation, then go on at a URL without the token."""
    invitation = service.invitation_for_token(token)
    if invitation is None or not invitation.is_usable:
        return _unusable(request, invitation)
    request.session[INVITATION_SESSION_KEY] = invitation.pk
    if not account_exists(invitation.email):
        # allauth's sign-up form then offers this address, already verified.
        get_adapter(request).stash_verified_email(request, invitation.email)
    return redirect("integrations:invitation_accept")


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest) -> HttpResponse:
    """Join the organization: sign up, or sign in, or (signed in) confirm."""
    invitation = pending_invitation(request)
    if invitation is None:
        opened = request.session.get(INVITATION_SESSION_KEY)
        stale = Invitation.objects.filter(pk=opened).first() if isinstance(opened, int) else None
        return _unusable(request, stale)
    user = request.user
    signed_in = user.is_authenticated
    is_invitee = isinstance(user, User) and user.email.lower() == invitation.email.lower()
    if request.method == "POST" and isinstance(user, User) and is_invitee:
        try:
            membership = service.invitation_accept(invitation=invitation, user=user)
        except service.TeamError:
            invitation.refresh_from_db()
            return _unusable(request, invitation)
        request.session.pop(INVITATION_SESSION_KEY, None)
        request.session[SESSION_KEY] = membership.organization_id
        messages.success(
            request, _("Welcome to %(name)s.") % {"name": membership.organization.name}
        )
        return redirect("home")
    context = {
        "invitation": invitation,
        "signed_in": signed_in,
        "is_invitee": is_invitee,
        "has_account": account_exists(invitation.email),
    }
    return render(request, "team/invitation_accept.html", context)
