from typing import Any

from django.http import HttpRequest


def organization(request: HttpRequest) -> dict[str, Any]:
    # The request as CurrentOrganizationMiddleware left it (PortalRequest), or an error
    # page's, which no middleware may have seen.
    """The current organization, membership and the user's other organizations."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"current_organization": None, "current_membership": None}
    return {
        "current_organization": membership.organization,
        "current_membership": membership,
        "is_org_admin": membership.is_admin,
        "user_memberships": getattr(request, "memberships", []),
    }
