"""What the Team page reads."""

from allauth.mfa.models import Authenticator
from django.db.models import Exists, OuterRef, QuerySet

from integrations.audit.history import HISTORY_SIZE
from integrations.models import HistoryEvent
from portal.organizations.models import Invitation, Membership, Organization

TEAM_EVENTS = (
    HistoryEvent.Kind.MEMBER_INVITED,
    HistoryEvent.Kind.INVITATION_RESENT,
    HistoryEvent.Kind.INVITATION_REVOKED,
    HistoryEvent.Kind.INVITATION_ACCEPTED,
    HistoryEvent.Kind.MEMBER_ROLE_CHANGED,
    HistoryEvent.Kind.MEMBER_REMOVED,
    HistoryEvent.Kind.TWO_FACTOR_REQUIREMENT_CHANGED,
)


def team_members(*, organization: Organization) -> list[Membership]:
    """The organization's members with their users, admins first; `two_factor` says
    whether each signs in with a second factor (an authenticator app or a security key)."""
    second_factor = Authenticator.objects.filter(
        user=OuterRef("user"),
        type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN],
    )
    return list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .annotate(two_factor=Exists(second_factor))
        .order_by("role", "user__email")
    )


def team_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked (expired ones too: they can be sent again)."""
    return (
        Invitation.objects.for_org(organization)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
    )


def team_history(*, organization: Organization) -> QuerySet[HistoryEvent]:
    """The organization's latest team changes, with who made them."""
    return (
        HistoryEvent.objects.for_org(organization)
        .filter(kind__in=TEAM_EVENTS)
        .select_related("actor")[:HISTORY_SIZE]
    )
