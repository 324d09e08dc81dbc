from collections.abc import Callable

from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from portal.organizations.models import Membership
from portal.organizations.tenancy import SESSION_KEY, PortalRequest

GetResponse = Callable[[HttpRequest], HttpResponseBase]


def user_memberships(request: HttpRequest) -> list[Membership]:
    """All the user's memberships, with their organizations, in one query."""
    if not request.user.is_authenticated:
        return []
    return list(
        Membership.objects.for_user(request.user)
        .select_related("organization")
        .order_by("organization__name", "pk")
    )


def current_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    """The membership in the organization the user chose, else their first one."""
    wanted = request.session.get(SESSION_KEY) if memberships else None
    chosen = [m for m in memberships if m.organization_id == wanted]
    return next(iter(chosen or memberships), None)


class CurrentOrganizationMiddleware:
    """Put the user's current membership and organization on the request.

    The organization always comes from one of the user's own memberships; the
    session only says which of them is current.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: PortalRequest) -> HttpResponseBase:
        request.memberships = user_memberships(request)
        request.membership = current_membership(request, request.memberships)
        request.organization = request.membership.organization if request.membership else None
        return self.get_response(request)


def two_factor_missing(request: PortalRequest) -> bool:
    """The user must set up two-factor sign-in before this request: an admin of an
    organization that requires it, or support staff at the Django admin."""
    user = request.user
    if not user.is_authenticated:
        return False
    required = any(
        m.is_admin and m.organization.require_two_factor_for_admins for m in request.memberships
    ) or (user.is_staff and request.path.startswith(reverse("admin:index")))
    return required and not get_mfa_adapter().is_mfa_enabled(user)


class TwoFactorRequiredMiddleware:
    """Send who must use two-factor sign-in to set it up before anything else.

    allauth's own pages (sign-out, the two-factor pages) and the language switch stay
    open; after the set-up, allauth asks for a code at every sign-in.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.open_prefixes = ("/accounts/", "/i18n/")

    def __call__(self, request: PortalRequest) -> HttpResponseBase:
        if not request.path.startswith(self.open_prefixes) and two_factor_missing(request):
            messages.warning(
                request,
                _("Set up two-factor sign-in with an authenticator app to continue."),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
