import os
import subprocess
import sys
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from portal.organizations.models import Membership, Organization
from portal.organizations.tenancy import (
    SESSION_KEY,
    admin_required,
    member_required,
    membership_required,
)
from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_and_logout(client, org_a):
    response = client.post(
        reverse("account_login"), {"login": org_a.admin.email, "password": PASSWORD}
    )
    assert response.status_code == HTTPStatus.FOUND
    page = client.get(reverse("integrations:company_list"))
    assert page.status_code == HTTPStatus.OK
    assert b"Alpha Ltd" in page.content

    client.post(reverse("account_logout"))
    page = client.get(reverse("integrations:company_list"))
    assert page.status_code == HTTPStatus.FOUND
    assert page["Location"].startswith(reverse("account_login"))


def test_wrong_password_is_refused(client, org_a):
    response = client.post(reverse("account_login"), {"login": org_a.admin.email, "password": "x"})
    assert response.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in client.session


def test_no_public_signup(client):
    response = client.get(reverse("account_signup"))
    assert b"Sign Up Closed" in response.content or response.status_code != HTTPStatus.OK
    client.post(
        reverse("account_signup"),
        {"email": "x@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert not get_user_model().objects.filter(email="x@example.com").exists()


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_login"))


def test_admin_login_refuses_non_staff(client, org_a):
    client.force_login(org_a.admin)
    assert client.get("/admin/login/").status_code == HTTPStatus.FORBIDDEN


def test_user_without_membership_gets_404(client, make_user):
    client.force_login(make_user("lonely@example.com"))
    assert client.get(reverse("integrations:company_list")).status_code == HTTPStatus.NOT_FOUND


def test_cannot_switch_to_someone_elses_organization(client, org_a, org_b):
    client.force_login(org_a.admin)
    response = client.post(reverse("switch_organization"), {"organization": org_b.pk})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert client.session.get(SESSION_KEY) is None


def test_switch_between_own_organizations(client, org_a, org_b):
    Membership.objects.create(organization=org_b, user=org_a.admin, role=Membership.Role.MEMBER)
    client.force_login(org_a.admin)
    assert b"Alpha Ltd" in client.get(reverse("integrations:company_list")).content
    client.post(reverse("switch_organization"), {"organization": org_b.pk})
    page = client.get(reverse("integrations:company_list"))
    assert page.context["current_organization"] == org_b
    assert page.context["current_membership"].role == Membership.Role.MEMBER


def test_session_pointing_at_a_lost_membership_falls_back(client, org_a, org_b):
    client.force_login(org_a.admin)
    session = client.session
    session[SESSION_KEY] = org_b.pk
    session.save()
    page = client.get(reverse("integrations:company_list"))
    assert page.context["current_organization"] == org_a


@pytest.mark.parametrize("decorator", [member_required, admin_required, membership_required])
def test_the_tenancy_decorators_keep_what_other_decorators_set_on_the_view(decorator):
    # Django reads attributes that decorators put on a view (csrf_exempt, never_cache's
    # and login_not_required's markers); the resolver and error reports show its name.
    @csrf_exempt
    def view(request):
        """The view's own docstring."""

    wrapped = decorator(view)

    assert wrapped.__wrapped__ is view
    assert wrapped.__name__ == "view"
    assert wrapped.__doc__ == "The view's own docstring."
    assert wrapped.csrf_exempt is True


def test_org_scoped_queryset(org_a, org_b):
    assert list(Membership.objects.for_user(org_a.admin)) == [
        Membership.objects.get(user=org_a.admin)
    ]
    from integrations.models import Company

    Company.objects.create(organization=org_a, name="A co")
    Company.objects.create(organization=org_b, name="B co")
    assert [c.name for c in Company.objects.for_org(org_a)] == ["A co"]
    assert [c.name for c in Company.objects.for_org(org_b)] == ["B co"]
    assert list(Company.objects.for_org(None)) == []


def test_create_organization(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command(
        "create_organization", "Gamma SA", admin_email="Boss@Gamma.example", interactive=False
    )
    org = Organization.objects.get(name="Gamma SA")
    membership = Membership.objects.get(organization=org)
    assert membership.role == Membership.Role.ADMIN
    assert membership.user.email == "boss@gamma.example"
    assert membership.user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("name", "email", "password", "message"),
    [
        ("  ", "a@b.example", PASSWORD, "must not be empty"),
        ("Gamma", "not-an-email", PASSWORD, "not a valid email"),
        ("Alpha Ltd", "a@b.example", PASSWORD, "already exists"),
        ("alpha ltd", "a@b.example", PASSWORD, "already exists"),
        ("Gamma", "a@b.example", "", "DJANGO_SUPERUSER_PASSWORD"),
        ("Gamma", "a@b.example", "123", "too short"),
    ],
)
def test_create_organization_bad_input(monkeypatch, org_a, name, email, password, message):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", password)
    users, orgs = get_user_model().objects.count(), Organization.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("create_organization", name, admin_email=email, interactive=False)
    assert get_user_model().objects.count() == users
    assert Organization.objects.count() == orgs


def test_create_organization_command_exits_nonzero(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_organization",
            "",
            "--admin-email",
            "x@y.example",
            "--noinput",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode != 0
    assert "must not be empty" in result.stderr


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_settings_refuse_to_start_without_required_variables(missing, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != missing}
    env["DJANGO_DEBUG"] = "0"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]


def test_missing_keys_fail_the_system_check(settings):
    from portal.checks import encryption_keys_check

    settings.FIELD_ENCRYPTION_KEYS = []
    assert [e.id for e in encryption_keys_check(None)] == ["portal.E001"]


def test_makemigrations_runs_in_a_clean_checkout_without_the_production_secrets():
    """It only reads the models: `manage.py makemigrations --check` runs with no secret
    and nothing else in the environment, as in a clean checkout (manage.py marks it
    source-only for the settings)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DJANGO_DEBUG", "DJANGO_SOURCE_ONLY")
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
