from .models import Membership
from .tenancy import SESSION_KEY


def current_membership(request) -> Membership | None:
    """The user's membership in the organization they chose, else their first one."""
    if not request.user.is_authenticated:
        return None
    memberships = Membership.objects.for_user(request.user).select_related("organization")
    wanted = request.session.get(SESSION_KEY)
    membership = None
    if wanted is not None:
        membership = memberships.filter(organization_id=wanted).first()
    if membership is None:
        membership = memberships.order_by("organization__name", "pk").first()
    return membership


class CurrentOrganizationMiddleware:
    """Put the user's current membership and organization on the request.

    The organization always comes from one of the user's own memberships; the
    session only says which of them is current.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = current_membership(request)
        request.organization = request.membership.organization if request.membership else None
        return self.get_response(request)
