"""The organization's team: invitations by email, roles, removal, the two-factor rule.

An invitation's token is returned once (for the email) and stored only as a hash; its
link works once, until it expires. An organization always keeps at least one admin:
the role changes and removals that would leave none are refused, the organization's
admin rows locked while it is checked.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from smtplib import SMTPException
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from integrations.audit.history import Actor, history_record
from integrations.models import HistoryEvent
from portal.organizations.models import Invitation, Membership, Organization, invitation_token_hash
from portal.public_urls import public_url

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # User: AUTH_USER_MODEL

logger = logging.getLogger(__name__)


class TeamError(Exception):
    """A team change that was refused; `message` says why, in the user's words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


LAST_ADMIN = _("An organization needs at least one admin: make another member an admin first.")
ALREADY_MEMBER = _("%(email)s is already a member of this organization.")
ALREADY_INVITED = _(
    "%(email)s already has a pending invitation: send it again or revoke it from the list."
)
INVITATION_UNUSABLE = _("This invitation can no longer be used.")
WRONG_ACCOUNT = _("This invitation was sent to another email address.")
SENT = _("Invitation sent to %(email)s.")
SENT_AGAIN = _("Invitation sent again to %(email)s.")
NOT_EMAILED = _(
    "The invitation to %(email)s is saved, but its email could not be sent: "
    "use “Send again” in a moment."
)
NOT_A_MEMBER = _("This person is no longer a member of the organization.")


@dataclass(frozen=True)
class Sent:
    invitation: Invitation
    # The link's token, for the email and tests; never stored, never shown on a page.
    token: str
    # False when the mail server refused or could not be reached: "Send again" later.
    emailed: bool


def sent_words(sent: Sent, *, again: bool = False) -> str:
    """What the admin is told once an invitation is saved: sent, or to send it again later."""
    if not sent.emailed:
        return str(NOT_EMAILED) % {"email": sent.invitation.email}
    words = SENT_AGAIN if again else SENT
    return str(words) % {"email": sent.invitation.email}


def invitation_url(token: str) -> str:
    return public_url("integrations:invitation_open", token)


@sensitive_variables("token")
def _send(invitation: Invitation, token: str) -> bool:
    """Email the link, in the language the invitation was written in; False if that failed."""
    with translation.override(invitation.language):
        context = {
            "invitation": invitation,
            "organization": invitation.organization,
            "inviter": invitation.invited_by,
            "url": invitation_url(token),
            "days": settings.INVITATION_LIFETIME_DAYS,
        }
        subject = render_to_string("team/email/invitation_subject.txt", context).strip()
        body = render_to_string("team/email/invitation_message.txt", context)
    try:
        EmailMessage(subject=subject, body=body, to=[invitation.email]).send()
    except (SMTPException, OSError) as error:
        logger.error(
            "The invitation email %s could not be sent: %s", invitation.pk, type(error).__name__
        )
        return False
    return True


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, invitation_token_hash(token)


@sensitive_variables("token")
def invitation_create(
    *, organization: Organization, email: str, role: str, actor: Actor, language: str
) -> Sent:
    """Invite `email` with `role`, and send the link (returned once, stored as a hash)."""
    email = email.strip().lower()
    with transaction.atomic():
        if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
            raise TeamError(str(ALREADY_MEMBER) % {"email": email})
        if Invitation.objects.for_org(organization).usable().filter(email__iexact=email).exists():
            raise TeamError(str(ALREADY_INVITED) % {"email": email})
        token, token_hash = _new_token()
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=Membership.Role(role),
            token_hash=token_hash,
            language=language,
            invited_by=actor if actor is not None and actor.is_authenticated else None,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_LIFETIME_DAYS),
        )
        history_record(
            organization=organization,
            actor=actor,
            kind=HistoryEvent.Kind.MEMBER_INVITED,
            details={"email": email, "role": invitation.role},
        )
    # Sent once the invitation is saved: a mail server that fails leaves it to send again.
    return Sent(invitation, token, emailed=_send(invitation, token))


@sensitive_variables("token")
def invitation_resend(*, invitation: Invitation, actor: Actor) -> Sent:
    """Send a new link (the old one stops working) valid for a full lifetime again."""
    token, token_hash = _new_token()
    with transaction.atomic():
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(
            token_hash=token_hash,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_LIFETIME_DAYS),
        )
        if not updated:
            raise TeamError(str(INVITATION_UNUSABLE))
        invitation.refresh_from_db()
        history_record(
            organization=invitation.organization,
            actor=actor,
            kind=HistoryEvent.Kind.INVITATION_RESENT,
            details={"email": invitation.email, "role": invitation.role},
        )
    return Sent(invitation, token, emailed=_send(invitation, token))


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: Actor) -> bool:
    """Revoke a pending invitation; False if it was already accepted or revoked."""
    updated = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if updated:
        history_record(
            organization=invitation.organization,
            actor=actor,
            kind=HistoryEvent.Kind.INVITATION_REVOKED,
            details={"email": invitation.email, "role": invitation.role},
        )
    return bool(updated)


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link's token names, whatever its state; None for a wrong token."""
    if not token or len(token) > 100:
        return None
    return Invitation.objects.by_token(token).select_related("organization").first()


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: "User") -> Membership:
    """Use the invitation (once): `user`, whose email it was sent to, joins with its role."""
    if (user.email or "").lower() != invitation.email.lower():
        raise TeamError(str(WRONG_ACCOUNT))
    # The conditional UPDATE is the single use: of two tries, one changes the row.
    used = (
        Invitation.objects.usable()
        .filter(pk=invitation.pk)
        .update(accepted_at=timezone.now(), accepted_by=user)
    )
    if not used:
        raise TeamError(str(INVITATION_UNUSABLE))
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                organization=invitation.organization, user=user, role=invitation.role
            )
    except IntegrityError:
        # Already a member (added by support meanwhile): the invitation is used all the same.
        membership = Membership.objects.get(organization=invitation.organization, user=user)
    history_record(
        organization=invitation.organization,
        actor=user,
        kind=HistoryEvent.Kind.INVITATION_ACCEPTED,
        details={"email": invitation.email, "role": membership.role},
    )
    return membership


def _admins_locked(organization_id: int) -> list[int]:
    """The organization's admins, their rows locked in one order (so two changes of the
    team wait for each other instead of deadlocking); re-read after a wait."""
    return list(
        Membership.objects.select_for_update()
        .filter(organization_id=organization_id, role=Membership.Role.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _refuse_leaving_no_admin(membership: Membership, *, stays_admin: bool) -> Membership:
    """Lock the team; return the member as stored now. Raise if the last admin would go."""
    admins = _admins_locked(membership.organization_id)
    current = Membership.objects.select_for_update().filter(pk=membership.pk).first()
    if current is None:
        raise TeamError(str(NOT_A_MEMBER))
    if not stays_admin and admins == [current.pk]:
        raise TeamError(str(LAST_ADMIN))
    return current


@transaction.atomic
def member_role_change(*, membership: Membership, role: str, actor: Actor) -> bool:
    """Give the member `role`; False if they had it. Refused for the last admin."""
    new_role = Membership.Role(role)
    current = _refuse_leaving_no_admin(membership, stays_admin=new_role == Membership.Role.ADMIN)
    if current.role == new_role:
        return False
    Membership.objects.filter(pk=current.pk).update(role=new_role)
    membership.role = new_role
    history_record(
        organization=membership.organization,
        actor=actor,
        kind=HistoryEvent.Kind.MEMBER_ROLE_CHANGED,
        details={"email": membership.user.email, "previous_role": current.role, "role": new_role},
    )
    return True


@transaction.atomic
def member_remove(*, membership: Membership, actor: Actor) -> None:
    """Remove the member from the organization (their account stays). Not the last admin."""
    current = _refuse_leaving_no_admin(membership, stays_admin=False)
    current.delete()
    history_record(
        organization=membership.organization,
        actor=actor,
        kind=HistoryEvent.Kind.MEMBER_REMOVED,
        details={"email": membership.user.email, "role": current.role},
    )


@transaction.atomic
def two_factor_requirement_set(*, organization: Organization, required: bool, actor: Actor) -> bool:
    """Require (or not) two-factor sign-in of the organization's admins; False if unchanged."""
    updated = (
        Organization.objects.filter(pk=organization.pk)
        .exclude(require_two_factor_for_admins=required)
        .update(require_two_factor_for_admins=required)
    )
    organization.require_two_factor_for_admins = required
    if updated:
        history_record(
            organization=organization,
            actor=actor,
            kind=HistoryEvent.Kind.TWO_FACTOR_REQUIREMENT_CHANGED,
            details={"required": required},
        )
    return bool(updated)
