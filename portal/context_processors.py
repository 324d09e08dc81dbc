def organization(request):
    """The current organization, membership and the user's other organizations."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"current_organization": None, "current_membership": None}
    return {
        "current_organization": membership.organization,
        "current_membership": membership,
        "is_org_admin": membership.is_admin,
        "user_memberships": request.memberships,
    }
