"""The pieces that make tenant scoping hard to get wrong.

Every portal page is wrapped by `member_required` (or `admin_required` for pages
that only admins may even read); the current organization is on
`request.organization`, set by `CurrentOrganizationMiddleware` from the user's
own memberships. Tenant data is read through
`Model.objects.for_org(request.organization)`, so an object of another
organization is simply not found (404).
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

SESSION_KEY = "current_organization_id"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _check(request, *, admin_only: bool):
    if request.organization is None:
        raise Http404("No organization")
    if not request.membership.is_admin and (admin_only or request.method not in SAFE_METHODS):
        raise PermissionDenied


def member_required(view):
    """Login and a membership in the current organization; only admins may write (POST)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        _check(request, admin_only=False)
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    """Login and the admin role in the current organization, for every method."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        _check(request, admin_only=True)
        return view(request, *args, **kwargs)

    return wrapper


def membership_required(view):
    """Login and any membership, for every method: for the user's own choices, not tenant data."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.organization is None:
            raise Http404("No organization")
        return view(request, *args, **kwargs)

    return wrapper
