"""The pieces that make tenant scoping hard to get wrong.

Every portal page is wrapped by `member_required` (or `admin_required` for pages
that only admins may even read); the current organization is on
`request.organization`, set by `CurrentOrganizationMiddleware` from the user's
own memberships. Tenant data is read through
`Model.objects.for_org(request.organization)`, so an object of another
organization is simply not found (404).
"""

from collections.abc import Callable
from functools import partial, wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from portal.organizations.models import Membership, Organization

SESSION_KEY = "current_organization_id"


class PortalRequest(HttpRequest):
    """A request as CurrentOrganizationMiddleware leaves it: the user's memberships,
    and the current one with its organization (None for a visitor or a user of none)."""

    request_id: str  # portal.request_ids.RequestIdMiddleware
    memberships: "list[Membership]"
    membership: "Membership | None"
    organization: "Organization | None"


class MemberRequest(PortalRequest):
    """What a view behind `member_required` or `admin_required` receives: a signed-in
    user with a membership in the current organization."""

    user: "User"
    membership: "Membership"
    organization: "Organization"


View = Callable[..., HttpResponseBase]


class NoOrganization(Http404):
    """The signed-in user belongs to no organization (the 404 page says what to do)."""


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _check(request: PortalRequest, *, admin_only: bool) -> None:
    if request.organization is None or request.membership is None:
        raise NoOrganization("No organization")
    if not request.membership.is_admin and (admin_only or request.method not in SAFE_METHODS):
        raise PermissionDenied


def _login_then(check: Callable[[PortalRequest], None]) -> Callable[[View], View]:
    """Make a view decorator: log in first, then `check(request)` (raises to refuse)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                response: HttpResponse = redirect_to_login(request.get_full_path())
                return response
            check(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _any_membership(request: PortalRequest) -> None:
    if request.organization is None:
        raise NoOrganization("No organization")


def member_required(view: View) -> View:
    """Login and a membership in the current organization; only admins may write (POST)."""
    return _login_then(partial(_check, admin_only=False))(view)


def admin_required(view: View) -> View:
    """Login and the admin role in the current organization, for every method."""
    return _login_then(partial(_check, admin_only=True))(view)


def membership_required(view: View) -> View:
    """Login and any membership, for every method: for the user's own choices, not tenant data."""
    return _login_then(_any_membership)(view)
