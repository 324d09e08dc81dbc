"""The team's services: invitations (single use, expiry, hashed token), roles, removal."""

import queue
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from integrations.models import HistoryEvent
from portal.organizations.models import Invitation, Membership, invitation_token_hash
from portal.organizations.services import (
    TeamError,
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_resend,
    invitation_revoke,
    member_remove,
    member_role_change,
    two_factor_requirement_set,
)
from tests.common.concurrency import run_at_once
from tests.common.db_faults import needs_postgres

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(org_a):
    def make(email="new@alpha.example", role=Membership.Role.MEMBER, *, org=None, language="en"):
        org = org or org_a
        return invitation_create(
            organization=org, email=email, role=role, actor=org.admin, language=language
        )

    return make


def test_invitation_mails_a_link_whose_token_is_stored_only_as_a_hash(invite, org_a):
    sent = invite(" New@Alpha.example ")
    invitation = Invitation.objects.get()
    assert invitation.email == "new@alpha.example"
    assert invitation.token_hash == invitation_token_hash(sent.token)
    assert sent.token not in invitation.token_hash
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@alpha.example"]
    assert f"/invitations/{sent.token}/" in message.body
    assert "Alpha Ltd" in message.subject
    assert org_a.admin.email in message.body
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.MEMBER_INVITED)
    assert sent.token not in str(event.details)


def test_the_email_is_in_the_language_of_the_invitation(invite):
    invite(language="fr")
    assert "Vous êtes invité" in mail.outbox[0].subject


def test_accept_joins_with_the_role_once(invite, make_user, org_a):
    sent = invite(role=Membership.Role.ADMIN)
    user = make_user("new@alpha.example")
    membership = invitation_accept(invitation=sent.invitation, user=user)
    assert membership.role == Membership.Role.ADMIN
    assert membership.organization == org_a
    with pytest.raises(TeamError, match="can no longer be used"):
        invitation_accept(invitation=sent.invitation, user=user)
    assert Invitation.objects.get().status == Invitation.Status.ACCEPTED


def test_an_expired_invitation_is_refused(invite, make_user):
    sent = invite()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(TeamError):
        invitation_accept(invitation=sent.invitation, user=make_user("new@alpha.example"))
    assert not Membership.objects.filter(user__email="new@alpha.example").exists()


def test_a_revoked_invitation_is_refused(invite, make_user, org_a):
    sent = invite()
    assert invitation_revoke(invitation=sent.invitation, actor=org_a.admin)
    assert not invitation_revoke(invitation=sent.invitation, actor=org_a.admin)
    with pytest.raises(TeamError):
        invitation_accept(invitation=sent.invitation, user=make_user("new@alpha.example"))


def test_another_account_cannot_use_the_invitation(invite, org_b):
    sent = invite()
    with pytest.raises(TeamError, match="another email"):
        invitation_accept(invitation=sent.invitation, user=org_b.admin)
    assert Invitation.objects.get().is_usable


@pytest.mark.parametrize("token", ["", "wrong", "x" * 200])
def test_a_wrong_token_names_no_invitation(invite, token):
    invite()
    assert invitation_for_token(token) is None


def test_resend_replaces_the_link_and_extends_it(invite, org_a):
    sent = invite()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(days=1))
    again = invitation_resend(invitation=sent.invitation, actor=org_a.admin)
    assert invitation_for_token(sent.token) is None
    assert invitation_for_token(again.token).is_usable


def test_members_and_pending_invitations_are_not_invited_twice(invite, org_a):
    with pytest.raises(TeamError, match="already a member"):
        invite(org_a.member.email.upper())
    invite()
    with pytest.raises(TeamError, match="pending invitation"):
        invite()
    # Another organization may invite the same address.
    assert Invitation.objects.count() == 1


def test_the_same_address_in_two_organizations(invite, org_b):
    invite()
    invite(org=org_b)
    assert Invitation.objects.for_org(org_b).count() == 1


def test_the_last_admin_can_be_neither_demoted_nor_removed(org_a):
    admin = Membership.objects.get(user=org_a.admin)
    with pytest.raises(TeamError, match="at least one admin"):
        member_role_change(membership=admin, role=Membership.Role.MEMBER, actor=org_a.admin)
    with pytest.raises(TeamError, match="at least one admin"):
        member_remove(membership=admin, actor=org_a.admin)
    assert Membership.objects.get(pk=admin.pk).role == Membership.Role.ADMIN


def test_with_a_second_admin_the_first_may_step_down(org_a):
    member = Membership.objects.get(user=org_a.member)
    admin = Membership.objects.get(user=org_a.admin)
    assert member_role_change(membership=member, role=Membership.Role.ADMIN, actor=org_a.admin)
    assert not member_role_change(membership=member, role=Membership.Role.ADMIN, actor=org_a.admin)
    member_remove(membership=admin, actor=org_a.admin)
    assert list(Membership.objects.filter(organization=org_a)) == [member]
    kinds = set(HistoryEvent.objects.for_org(org_a).values_list("kind", flat=True))
    assert {HistoryEvent.Kind.MEMBER_ROLE_CHANGED, HistoryEvent.Kind.MEMBER_REMOVED} <= kinds


def test_an_admin_of_another_organization_does_not_count(org_a, org_b):
    """Org B's admin is no second admin of org A."""
    Membership.objects.create(organization=org_a, user=org_b.admin, role=Membership.Role.MEMBER)
    admin = Membership.objects.get(user=org_a.admin)
    with pytest.raises(TeamError):
        member_remove(membership=admin, actor=org_a.admin)


def test_two_factor_rule_is_recorded_when_it_changes(org_a):
    assert two_factor_requirement_set(organization=org_a, required=True, actor=org_a.admin)
    assert not two_factor_requirement_set(organization=org_a, required=True, actor=org_a.admin)
    org_a.refresh_from_db()
    assert org_a.require_two_factor_for_admins
    assert (
        HistoryEvent.objects.filter(kind=HistoryEvent.Kind.TWO_FACTOR_REQUIREMENT_CHANGED).count()
        == 1
    )


def test_an_admin_keeping_their_role_is_no_change(org_a):
    admin = Membership.objects.get(user=org_a.admin)
    assert not member_role_change(membership=admin, role=Membership.Role.ADMIN, actor=org_a.admin)


def test_a_member_removed_meanwhile_is_a_clear_refusal(org_a):
    member = Membership.objects.get(user=org_a.member)
    Membership.objects.filter(pk=member.pk).delete()
    with pytest.raises(TeamError, match="no longer a member"):
        member_remove(membership=member, actor=org_a.admin)


@needs_postgres(
    "SQLite has no row locks and serialises writers, so two changes cannot race there; "
    ".ci/run's mandatory PostgreSQL run holds the lock on the organization's admins"
)
@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(org_a):
    """Both start together: without the lock on the admins, each would see two."""
    Membership.objects.filter(user=org_a.member).update(role=Membership.Role.ADMIN)
    targets = queue.SimpleQueue()
    for membership in Membership.objects.filter(organization=org_a).select_related("user"):
        targets.put(membership)

    def demote(wait):
        membership = targets.get()
        wait()
        return member_role_change(membership=membership, role=Membership.Role.MEMBER, actor=None)

    results, errors = run_at_once(2, demote)
    assert results == [True]
    assert [type(e) for e in errors] == [TeamError]
    assert Membership.objects.filter(organization=org_a, role=Membership.Role.ADMIN).count() == 1


def test_accepting_when_support_already_added_the_member_uses_the_invitation(
    invite, make_user, org_a
):
    sent = invite()
    user = make_user("new@alpha.example")
    Membership.objects.create(organization=org_a, user=user)
    membership = invitation_accept(invitation=sent.invitation, user=user)
    assert membership.role == Membership.Role.MEMBER
    assert Invitation.objects.get().status == Invitation.Status.ACCEPTED
