"""Settings › Team and the invitee's pages, through the Django test client."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import HistoryEvent
from portal.logging import redact
from portal.organizations.models import Invitation, Membership
from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db

TEAM = reverse("integrations:team")
NEW_PASSWORD = "a-long-unusual-passphrase-77"


def _invite(client, email="new@alpha.example", role="member", language="en"):
    data = {"email": email, "role": role, "language": language}
    return client.post(reverse("integrations:team_invite"), data)


def _link(message) -> str:
    return re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def visitor(db):
    """Another browser than the inviting admin's (`client` is the admin's)."""
    return Client()


@pytest.fixture
def invited(admin_client):
    """Invite new@alpha.example from the page; return the email's link (a path)."""

    def invite(email="new@alpha.example", role="member"):
        response = _invite(admin_client, email, role)
        assert response.status_code == HTTPStatus.FOUND
        return _path(_link(mail.outbox[-1]))

    return invite


def test_members_see_the_team_and_who_the_admins_are(member_client, org_a):
    page = member_client.get(TEAM)
    html = page.content.decode()
    assert page.status_code == HTTPStatus.OK
    assert org_a.admin.email in html
    assert org_a.member.email in html
    assert 'data-testid="team-admins"' in html
    assert reverse("integrations:team_invite") not in html
    assert "team-invitations" not in html


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("team_invite", []),
        ("two_factor_rule", []),
        ("member_role", [1]),
        ("member_remove", [1]),
        ("invitation_revoke", [1]),
        ("invitation_resend", [1]),
    ],
)
def test_members_cannot_manage_the_team(member_client, org_a, name, args):
    response = member_client.post(reverse(f"integrations:{name}", args=args), {"email": "x@y.z"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Invitation.objects.exists()


def test_invite_sends_an_email_whose_token_is_not_stored(admin_client, invited, org_a):
    link = invited()
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash
    page = admin_client.get(TEAM).content.decode()
    assert "new@alpha.example" in page
    assert token not in page


def test_the_email_is_in_the_language_the_admin_chose(
    admin_client,
):
    _invite(admin_client, language="fr")
    assert "Ouvrez ce lien pour accepter" in mail.outbox[0].body


def test_admins_see_who_signs_in_with_a_second_factor(admin_client, make_user, org_a):
    keyed = make_user("keyed@alpha.example", two_factor=True)
    Membership.objects.create(organization=org_a, user=keyed)
    rows = admin_client.get(TEAM).content.decode().split("<tr>")
    assert "On" in next(r for r in rows if "keyed@alpha.example" in r)
    assert "Off" in next(r for r in rows if org_a.member.email in r)


def test_bad_invitations_say_why_and_change_nothing(admin_client, org_a):
    # Each refusal: 303 to the team page, whose GET shows why (the service's words too).
    for sent, why in (
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"email": org_a.member.email}, "already a member"),
        ({"role": "owner"}, "Select a valid choice."),
        ({"language": "de"}, "Select a valid choice."),
    ):
        refused = _invite(admin_client, **sent)
        assert (refused.status_code, refused["Location"]) == (HTTPStatus.SEE_OTHER, TEAM)
        assert why in admin_client.get(TEAM).content.decode()
    assert not Invitation.objects.exists()
    assert not mail.outbox


def test_invitee_sets_a_password_and_joins(visitor, invited, org_a):
    link = invited(role="admin")
    opened = visitor.get(link)
    # The token leaves the address bar at once.
    assert opened.status_code == HTTPStatus.FOUND
    assert opened["Location"] == reverse("integrations:invitation_accept")
    page = visitor.get(opened["Location"]).content.decode()
    assert "Join Alpha Ltd" in page
    signup = visitor.get(reverse("account_signup"))
    assert signup.status_code == HTTPStatus.OK
    assert 'value="new@alpha.example"' in signup.content.decode()
    response = visitor.post(
        reverse("account_signup"),
        {"email": "new@alpha.example", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:3000]
    user = get_user_model().objects.get(email="new@alpha.example")
    assert Membership.objects.get(user=user).role == Membership.Role.ADMIN
    assert user.emailaddress_set.get().verified
    assert visitor.get(reverse("home")).status_code == HTTPStatus.FOUND  # signed in
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.INVITATION_ACCEPTED).exists()
    # The link works once.
    visitor.post(reverse("account_logout"))
    again = visitor.get(link)
    assert again.status_code == HTTPStatus.GONE
    assert "already used" in again.content.decode()


def test_a_weak_password_is_refused_and_nothing_is_created(visitor, invited):
    visitor.get(invited())
    response = visitor.post(
        reverse("account_signup"),
        {"email": "new@alpha.example", "password1": "password", "password2": "password"},
    )
    assert response.status_code == HTTPStatus.OK
    assert not get_user_model().objects.filter(email="new@alpha.example").exists()
    assert Invitation.objects.get().is_usable


def test_signup_takes_only_the_invited_address(visitor, invited):
    visitor.get(invited())
    response = visitor.post(
        reverse("account_signup"),
        {"email": "other@alpha.example", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == HTTPStatus.OK
    assert "the invitation was sent to" in response.content.decode()
    assert not get_user_model().objects.filter(email="other@alpha.example").exists()


def test_signup_is_closed_without_an_invitation(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "x@alpha.example", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert not get_user_model().objects.filter(email="x@alpha.example").exists()
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FORBIDDEN)


def test_an_existing_account_signs_in_then_joins(visitor, invited, org_b):
    link = invited(email=org_b.admin.email)
    visitor.get(link)
    page = visitor.get(reverse("integrations:invitation_accept")).content.decode()
    assert "sign in to join" in page
    visitor.post(reverse("account_login"), {"login": org_b.admin.email, "password": PASSWORD})
    response = visitor.post(reverse("integrations:invitation_accept"))
    assert response.status_code == HTTPStatus.FOUND
    assert Membership.objects.filter(user=org_b.admin, organization__name="Alpha Ltd").exists()


def test_someone_else_signed_in_cannot_accept(visitor, invited, org_b):
    visitor.force_login(org_b.member)
    visitor.get(invited())
    response = visitor.post(reverse("integrations:invitation_accept"))
    assert "Sign out, then open" in response.content.decode()
    assert Invitation.objects.get().is_usable


def test_expired_revoked_and_wrong_links_get_a_clear_page(visitor, admin_client, invited):
    link = invited()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = visitor.get(link)
    assert expired.status_code == HTTPStatus.GONE
    assert "has expired" in expired.content.decode()
    wrong = visitor.get(link[:-5] + "xxxx/")
    assert wrong.status_code == HTTPStatus.NOT_FOUND
    assert "Invitation not found" in wrong.content.decode()
    admin_client.post(reverse("integrations:invitation_resend", args=[Invitation.objects.get().pk]))
    assert len(mail.outbox) == 2
    assert visitor.get(link).status_code == HTTPStatus.NOT_FOUND  # replaced by the new link
    admin_client.post(reverse("integrations:invitation_revoke", args=[Invitation.objects.get().pk]))
    revoked = visitor.get(_path(_link(mail.outbox[-1])))
    assert "was revoked" in revoked.content.decode()


def test_an_invitation_revoked_after_opening_cannot_be_used(visitor, admin_client, invited):
    visitor.get(invited())
    Invitation.objects.update(revoked_at=timezone.now())
    response = visitor.post(
        reverse("account_signup"),
        {"email": "new@alpha.example", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert not get_user_model().objects.filter(email="new@alpha.example").exists()
    assert response.status_code != HTTPStatus.INTERNAL_SERVER_ERROR


def test_roles_change_but_never_leave_no_admin(admin_client, org_a):
    admin = Membership.objects.get(user=org_a.admin)
    member = Membership.objects.get(user=org_a.member)
    response = admin_client.post(
        reverse("integrations:member_role", args=[admin.pk]), {"role": "member"}, follow=True
    )
    assert "at least one admin" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_admin
    admin_client.post(reverse("integrations:member_role", args=[member.pk]), {"role": "admin"})
    member.refresh_from_db()
    assert member.is_admin
    history = admin_client.get(TEAM).content.decode()
    assert f"email: {org_a.member.email}; previous role: Member; role: Admin." in history
    response = admin_client.post(
        reverse("integrations:member_role", args=[member.pk]), {"role": "x"}
    )
    assert response.status_code == HTTPStatus.FOUND


def test_remove_asks_first_and_refuses_the_last_admin(admin_client, org_a):
    member = Membership.objects.get(user=org_a.member)
    confirm = admin_client.get(reverse("integrations:member_remove", args=[member.pk]))
    assert org_a.member.email in confirm.content.decode()
    admin_client.post(reverse("integrations:member_remove", args=[member.pk]))
    assert not Membership.objects.filter(pk=member.pk).exists()
    admin = Membership.objects.get(user=org_a.admin)
    response = admin_client.post(
        reverse("integrations:member_remove", args=[admin.pk]), follow=True
    )
    assert "at least one admin" in response.content.decode()
    assert Membership.objects.filter(pk=admin.pk).exists()


def test_an_admin_of_another_organization_reaches_nothing_of_ours(visitor, org_a, org_b, invited):
    invited()
    invitation = Invitation.objects.get()
    theirs = Membership.objects.get(user=org_a.member)
    visitor.force_login(org_b.admin)
    page = visitor.get(TEAM).content.decode()
    assert org_a.member.email not in page
    assert "new@alpha.example" not in page
    for name, pk in [
        ("member_role", theirs.pk),
        ("member_remove", theirs.pk),
        ("invitation_revoke", invitation.pk),
        ("invitation_resend", invitation.pk),
    ]:
        response = visitor.post(reverse(f"integrations:{name}", args=[pk]), {"role": "admin"})
        assert response.status_code == HTTPStatus.NOT_FOUND, name
    theirs.refresh_from_db()
    invitation.refresh_from_db()
    assert theirs.role == Membership.Role.MEMBER
    assert invitation.is_usable


def test_requiring_two_factor_needs_it_for_yourself_first(admin_client, org_a):
    response = admin_client.post(reverse("integrations:two_factor_rule"), {"required": "on"})
    org_a.refresh_from_db()
    assert not org_a.require_two_factor_for_admins
    assert response.status_code == HTTPStatus.FOUND


def test_the_log_of_a_refused_link_does_not_hold_its_token(visitor, invited, caplog):
    link = invited()
    Invitation.objects.update(revoked_at=timezone.now())
    with caplog.at_level("WARNING", logger="django.request"):
        assert visitor.get(link).status_code == HTTPStatus.GONE
    token = link.rstrip("/").rsplit("/", 1)[1]
    logged = [redact(record.getMessage()) for record in caplog.records]
    assert any("/invitations/" in line for line in logged)
    assert not any(token in line for line in logged)


def test_a_mail_server_that_fails_leaves_the_invitation_to_send_again(admin_client, settings):
    # Nothing listens on port 1 of the loopback: the SMTP connection is refused.
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
        }
    }
    data = {"email": "new@alpha.example", "role": "member", "language": "en"}
    response = admin_client.post(reverse("integrations:team_invite"), data, follow=True)
    assert response.status_code == HTTPStatus.OK
    assert "could not be sent" in response.content.decode()
    assert Invitation.objects.get().is_usable
