"""Two-factor sign-in (allauth.mfa): enrolment, the code at sign-in, recovery codes, and
who must use it (admins of an organization that requires it; support staff at /admin/)."""

from http import HTTPStatus
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.core.management import call_command
from django.urls import reverse

from integrations import crypto
from integrations.models import HistoryEvent
from tests.portal.two_factor import enroll_totp, password_login, totp_code, wrong_code

pytestmark = pytest.mark.django_db

ACTIVATE = reverse("mfa_activate_totp")
AUTHENTICATE = reverse("mfa_authenticate")
HOME = reverse("integrations:company_list")


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _enrolled(client, user) -> str:
    response = password_login(client, user.email)
    assert response.status_code == HTTPStatus.FOUND
    secret = enroll_totp(client)
    client.post(reverse("account_logout"))
    assert not _signed_in(client)
    return secret


def test_after_enrolment_sign_in_asks_for_the_code_and_refuses_a_wrong_one(client, org_a):
    secret = _enrolled(client, org_a.member)
    response = password_login(client, org_a.member.email)
    assert response["Location"] == AUTHENTICATE
    assert not _signed_in(client)
    refused = client.post(AUTHENTICATE, {"code": wrong_code(secret)})
    assert refused.status_code == HTTPStatus.OK
    assert "Incorrect code" in refused.content.decode()
    assert not _signed_in(client)
    accepted = client.post(AUTHENTICATE, {"code": totp_code(secret)})
    assert accepted.status_code == HTTPStatus.FOUND
    assert _signed_in(client)


def test_a_recovery_code_works_once(client, org_a):
    _enrolled(client, org_a.member)
    codes = RecoveryCodes(
        Authenticator.objects.get(user=org_a.member, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()
    assert codes
    password_login(client, org_a.member.email)
    assert client.post(AUTHENTICATE, {"code": codes[0]}).status_code == HTTPStatus.FOUND
    assert _signed_in(client)
    client.post(reverse("account_logout"))
    password_login(client, org_a.member.email)
    again = client.post(AUTHENTICATE, {"code": codes[0]})
    assert again.status_code == HTTPStatus.OK
    assert not _signed_in(client)


def test_an_admin_of_an_organization_that_requires_it_must_set_it_up_first(client, org_a):
    org_a.require_two_factor_for_admins = True
    org_a.save()
    password_login(client, org_a.admin.email)
    response = client.get(HOME)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == ACTIVATE
    assert client.get(reverse("integrations:team"))["Location"] == ACTIVATE
    # Their own two-factor pages stay open, without asking for the password just given.
    assert client.get(ACTIVATE).status_code == HTTPStatus.OK
    enroll_totp(client)
    assert client.get(HOME).status_code == HTTPStatus.OK


@pytest.mark.parametrize("who", ["member", "admin of another organization"])
def test_others_are_not_asked(client, org_a, org_b, who):
    org_a.require_two_factor_for_admins = True
    org_a.save()
    client.force_login(org_a.member if who == "member" else org_b.admin)
    assert client.get(HOME).status_code == HTTPStatus.OK


def test_support_staff_need_it_for_the_admin(client, make_user):
    staff = make_user("support@portal.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.get(reverse("admin:index"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == ACTIVATE


def test_support_staff_with_it_reach_the_admin(client, make_user):
    staff = make_user("support2@portal.example", is_staff=True, two_factor=True)
    password_login(client, staff.email)
    assert not _signed_in(client)
    client.post(AUTHENTICATE, {"code": totp_code(staff.totp_secret)})
    assert client.get(reverse("admin:index")).status_code == HTTPStatus.OK


def test_an_admin_with_two_factor_requires_it_of_all_admins(client, org_a):
    password_login(client, org_a.admin.email)
    enroll_totp(client)
    client.post(reverse("integrations:two_factor_rule"), {"required": "on"})
    org_a.refresh_from_db()
    assert org_a.require_two_factor_for_admins
    assert HistoryEvent.objects.filter(
        organization=org_a, kind=HistoryEvent.Kind.TWO_FACTOR_REQUIREMENT_CHANGED
    ).exists()
    client.post(reverse("integrations:two_factor_rule"), {})
    org_a.refresh_from_db()
    assert not org_a.require_two_factor_for_admins


def test_the_admin_never_shows_an_authenticators_secret(client, make_user, org_a):
    staff = make_user("support3@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    client.force_login(staff)
    authenticator = Authenticator.objects.get(user=staff, type=Authenticator.Type.TOTP)
    page = client.get(reverse("admin:mfa_authenticator_change", args=[authenticator.pk]))
    assert page.status_code == HTTPStatus.OK
    assert staff.totp_secret not in page.content.decode()


def test_two_factor_secrets_are_encrypted_at_rest_and_rotated(client, org_a, settings):
    old_key, new_key = crypto.generate_key(), crypto.generate_key()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    secret = _enrolled(client, org_a.member)
    stored = {a.type: a.data for a in Authenticator.objects.filter(user=org_a.member)}
    assert secret not in str(stored[Authenticator.Type.TOTP])
    assert stored[Authenticator.Type.TOTP]["secret"].startswith(f"{crypto.PREFIX}:")
    assert stored[Authenticator.Type.RECOVERY_CODES]["seed"].startswith(f"{crypto.PREFIX}:")

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys", stdout=StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    # The code still signs in with only the new key.
    password_login(client, org_a.member.email)
    assert client.post(AUTHENTICATE, {"code": totp_code(secret)}).status_code == HTTPStatus.FOUND
    assert _signed_in(client)


def test_a_secret_stored_in_the_clear_still_works_and_rotation_encrypts_it(client, make_user):
    user = make_user("old@alpha.example", two_factor=True)
    Authenticator.objects.filter(user=user).update(data={"secret": user.totp_secret})
    password_login(client, user.email)
    assert client.post(AUTHENTICATE, {"code": totp_code(user.totp_secret)}).status_code == 302
    call_command("rotate_encryption_keys", stdout=StringIO())
    assert user.totp_secret not in str(Authenticator.objects.get(user=user).data)


# Support's way in (issue 21 item 3).


def test_staff_without_an_organization_land_on_the_admin_after_sign_in(client, make_user):
    staff = make_user("support4@portal.example", is_staff=True, is_superuser=True)
    response = password_login(client, staff.email)
    assert response.status_code == HTTPStatus.FOUND
    landing = client.get(response["Location"])
    assert landing.status_code == HTTPStatus.FOUND
    assert landing["Location"] == reverse("admin:index")
    # The admin asks for two-factor sign-in first: its set-up opens without the password.
    admin = client.get(landing["Location"])
    assert admin["Location"] == ACTIVATE
    assert client.get(ACTIVATE).status_code == HTTPStatus.OK
    enroll_totp(client, password="not-asked")
    assert client.get(reverse("admin:index")).status_code == HTTPStatus.OK


def test_staff_of_an_organization_still_land_on_its_companies(client, org_a):
    org_a.admin.is_staff = True
    org_a.admin.save()
    response = password_login(client, org_a.admin.email)
    assert client.get(response["Location"])["Location"] == HOME


def test_members_without_an_organization_still_read_the_no_organization_page(client, make_user):
    user = make_user("lonely@portal.example")
    response = password_login(client, user.email)
    landing = client.get(response["Location"])
    assert landing.status_code == HTTPStatus.NOT_FOUND
    assert "No organization yet" in landing.content.decode()


def test_setting_up_two_factor_right_after_sign_in_does_not_ask_for_the_password(client, org_a):
    password_login(client, org_a.member.email)
    assert client.get(ACTIVATE).status_code == HTTPStatus.OK


def test_setting_up_two_factor_long_after_sign_in_asks_for_the_password(client, org_a):
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY

    password_login(client, org_a.member.email)
    session = client.session
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    for record in records:
        record["at"] -= 301  # allauth's reauthentication window is 5 minutes
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()
    response = client.get(ACTIVATE)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_reauthenticate"))
