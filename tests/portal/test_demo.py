"""`make run`'s demo: the real URL, an admin and a member, and how support signs in."""

from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from portal.organizations.models import Membership
from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_env(monkeypatch, settings):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", PASSWORD)
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "")  # create_demo sets it
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8123"


def test_the_demo_prints_the_real_url_and_makes_an_admin_and_a_member(demo_env, capsys):
    call_command("create_demo")
    call_command("create_demo")  # make run runs it every time

    out = capsys.readouterr().out
    assert "Portal:    http://127.0.0.1:8123/" in out
    assert ":8000" not in out
    assert "manage.py createsuperuser" in out
    assert "http://127.0.0.1:8123/admin/" in out
    roles = dict(Membership.objects.values_list("user__email", "role"))
    assert roles == {
        "admin@demo.example": Membership.Role.ADMIN,
        "member@demo.example": Membership.Role.MEMBER,
    }
    client = Client()
    assert client.login(username="member@demo.example", password=PASSWORD)


def test_a_support_account_from_createsuperuser_signs_in_by_email(monkeypatch, client):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command(
        "createsuperuser", username="support", email="support@portal.example", interactive=False
    )

    client.post(reverse("account_login"), {"login": "support@portal.example", "password": PASSWORD})

    # Signed in by email; staff set up two-factor sign-in before the admin opens to them.
    response = client.get(reverse("admin:index"))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("mfa_activate_totp"))
