"""Authenticated input that gave a 500: a `next` that is no path, an id that is no number."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from portal.organizations.models import Membership
from portal.organizations.tenancy import SESSION_KEY

pytestmark = pytest.mark.django_db

NOT_LOCAL = [
    "0",
    "home",
    "integrations:integration_settings",
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    " /companies/",
    "",
]


@pytest.mark.parametrize("target", NOT_LOCAL)
@pytest.mark.parametrize("enabled", ["true", "false"])
def test_the_toggle_ignores_a_next_that_is_not_a_local_path(
    admin_client, org_a, setup_sage, target, enabled
):
    # Before: next=0 raised NoReverseMatch (a 500).
    integration, _ = setup_sage(org_a)
    url = reverse("integrations:integration_toggle", args=[integration.pk])
    response = admin_client.post(url, {"enabled": enabled, "next": target, "confirmed": "true"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("integrations:accounting_list")


def test_the_toggle_follows_a_local_next(admin_client, org_a, setup_sage):
    integration, _ = setup_sage(org_a)
    url = reverse("integrations:integration_toggle", args=[integration.pk])
    target = reverse("integrations:integration_settings")
    response = admin_client.post(url, {"enabled": "false", "next": target, "confirmed": "true"})
    assert response["Location"] == target


@pytest.mark.parametrize("value", ["²", "١", "𝟙", "1.0", "-1", "", "9" * 40])
def test_switching_to_an_organization_that_is_no_ascii_number_is_a_404(client, org_a, value):
    # Before: "²" passed str.isdigit() and the query raised ValueError (a 500).
    client.force_login(org_a.admin)
    response = client.post(reverse("switch_organization"), {"organization": value})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert client.session.get(SESSION_KEY) is None


@pytest.mark.parametrize("target", NOT_LOCAL)
def test_switching_ignores_a_next_that_is_not_a_local_path(client, org_a, org_b, target):
    Membership.objects.create(organization=org_b, user=org_a.admin, role=Membership.Role.MEMBER)
    client.force_login(org_a.admin)
    data = {"organization": org_b.pk, "next": target}
    response = client.post(reverse("switch_organization"), data)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("home")
    assert client.session[SESSION_KEY] == org_b.pk
