from .models import Membership
from .tenancy import SESSION_KEY


def user_memberships(request) -> list[Membership]:
    """All the user's memberships, with their organizations, in one query."""
    if not request.user.is_authenticated:
        return []
    return list(
        Membership.objects.for_user(request.user)
        .select_related("organization")
        .order_by("organization__name", "pk")
    )


def current_membership(request, memberships: list[Membership]) -> Membership | None:
    """The membership in the organization the user chose, else their first one."""
    wanted = request.session.get(SESSION_KEY) if memberships else None
    chosen = [m for m in memberships if m.organization_id == wanted]
    return next(iter(chosen or memberships), None)


class CurrentOrganizationMiddleware:
    """Put the user's current membership and organization on the request.

    The organization always comes from one of the user's own memberships; the
    session only says which of them is current.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.memberships = user_memberships(request)
        request.membership = current_membership(request, request.memberships)
        request.organization = request.membership.organization if request.membership else None
        return self.get_response(request)
