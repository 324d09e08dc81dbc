"""Support's "Invite member" on an organization's admin page: the same invitation and email."""

from http import HTTPStatus

import pytest
from django.core import mail
from django.urls import reverse

from integrations.models import HistoryEvent
from portal.organizations.models import Invitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(
        make_user("support@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    )
    return client


def test_the_organization_page_links_to_invite(staff_client, org_a):
    page = staff_client.get(reverse("admin:portal_organization_change", args=[org_a.pk]))
    assert reverse("admin:portal_organization_invite", args=[org_a.pk]) in page.content.decode()


def test_support_invites_a_member(staff_client, org_a, org_b):
    url = reverse("admin:portal_organization_invite", args=[org_a.pk])
    assert staff_client.get(url).status_code == HTTPStatus.OK
    response = staff_client.post(
        url, {"email": "helper@alpha.example", "role": "admin", "language": "fr"}
    )
    assert response.status_code == HTTPStatus.FOUND
    invitation = Invitation.objects.get()
    assert (invitation.organization, invitation.role) == (org_a, "admin")
    assert "/invitations/" in mail.outbox[0].body
    assert "Ouvrez ce lien" in mail.outbox[0].body
    assert invitation.invited_by.email == "support@portal.example"
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.MEMBER_INVITED)
    assert event.organization == org_a
    assert not Invitation.objects.for_org(org_b).exists()
    # The organization's page lists it, with no token.
    page = staff_client.get(reverse("admin:portal_organization_change", args=[org_a.pk]))
    assert "helper@alpha.example" in page.content.decode()


def test_a_bad_invitation_is_refused_with_a_reason(staff_client, org_a):
    url = reverse("admin:portal_organization_invite", args=[org_a.pk])
    response = staff_client.post(
        url, {"email": org_a.admin.email, "role": "member", "language": "en"}
    )
    assert response.status_code == HTTPStatus.OK
    assert "already a member" in response.content.decode()
    assert staff_client.post(url, {"email": "nope", "role": "member"}).status_code == HTTPStatus.OK
    assert not Invitation.objects.exists()


def test_unknown_organization_is_404(staff_client):
    url = reverse("admin:portal_organization_invite", args=[999999])
    assert staff_client.get(url).status_code == HTTPStatus.NOT_FOUND


def test_staff_without_change_permission_cannot_invite(client, make_user, org_a):
    client.force_login(make_user("viewer@portal.example", is_staff=True, two_factor=True))
    url = reverse("admin:portal_organization_invite", args=[org_a.pk])
    assert client.post(url, {"email": "x@alpha.example", "role": "member"}).status_code in (
        HTTPStatus.FORBIDDEN,
        HTTPStatus.NOT_FOUND,
    )
    assert not Invitation.objects.exists()
