"""Every dead end gets a page in the portal's layout that says what to do next."""

from http import HTTPStatus

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from portal.views import server_error

pytestmark = pytest.mark.django_db


def test_an_unknown_page_is_a_404_in_the_portal_layout(admin_client):
    response = admin_client.get("/no/such/page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    html = response.content.decode()
    assert "Page not found" in html
    assert 'data-testid="org-name"' in html  # the portal's own layout
    french = admin_client.get("/no/such/page/", headers={"accept-language": "fr"})
    assert "Page introuvable" in french.content.decode()


def test_a_user_without_an_organization_is_told_to_ask_for_an_invitation(client, make_user):
    client.force_login(make_user("lonely@example.com"))
    response = client.get(reverse("integrations:company_list"))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Ask an admin of your organization to invite you" in response.content.decode()


def test_support_staff_following_view_site_are_sent_to_the_admin(client, make_user):
    client.force_login(make_user("support@portal.example", is_staff=True, two_factor=True))
    assert client.get(reverse("home"))["Location"] == reverse("admin:index")
    response = client.get(reverse("integrations:company_list"))
    html = response.content.decode()
    assert "You are signed in as support staff" in html
    assert reverse("admin:index") in html


def test_a_member_at_an_admin_action_is_told_who_the_admins_are(member_client, org_a):
    response = member_client.get(reverse("integrations:company_create"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    html = response.content.decode()
    assert "Only your organization's admins can do this." in html
    assert org_a.admin.email in html
    assert org_a.member.email not in html.split('data-testid="admins"')[1]


def test_a_client_user_at_the_support_admin_is_sent_back_to_the_portal(admin_client):
    response = admin_client.get("/admin/login/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "This part is for the portal's support staff." in response.content.decode()


@pytest.mark.parametrize(
    ("language", "words"), [("en", "Something went wrong"), ("fr", "Un problème")]
)
def test_a_server_error_page_needs_nothing_but_the_template(language, words):
    with translation.override(language):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert words in response.content.decode()
