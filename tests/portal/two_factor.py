"""Two-factor helpers for tests: the authenticator app's current code, sign-in with it."""

import time

from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.urls import reverse

from tests.common.factories import PASSWORD


def totp_code(secret: str, *, offset: int = 0) -> str:
    """The code an authenticator app shows now (offset: periods later)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def wrong_code(secret: str) -> str:
    """A well-formed code that no period of the tolerance window accepts."""
    valid = {totp_code(secret, offset=i) for i in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1000000)) if c not in valid)


def enroll_totp(client, password: str = PASSWORD) -> str:
    """Activate an authenticator app through allauth's pages (which first ask for the
    password again); return its secret."""
    page = client.get(reverse("mfa_activate_totp"))
    if page.status_code == 302 and page["Location"].startswith(reverse("account_reauthenticate")):
        client.post(page["Location"], {"password": password})
        page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200, page
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return secret


def password_login(client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})
