"""The peer: django-allauth's OAuth2 callback against the same Sage sandbox, same run.

A minimal allauth provider for the sandbox (bench/allauth_sage, bench code
only). Each entry is prepared the way a browser would start it: allauth's own
login view (a POST, run in this process on a fresh session) stashes its state
and PKCE verifier in the session and answers the redirect to the sandbox's
authorize page, which approves and returns the callback URL with a real code.
wrk then uses each callback URL once with that session's cookie: allauth checks
the state, exchanges the code (one token request), reads the Sage user (one API
call, as ours reads the business), stores the tokens (SOCIALACCOUNT_STORE_TOKENS)
and logs the user in. Every callback logs in the same existing user, linked
once beforehand (the portal has no sign-up), so every callback takes one path.
"""

from concurrent.futures import ThreadPoolExecutor

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import RequestFactory
from django.urls import reverse

from integrations.sage.sandbox import data

from . import report
from .allauth_sage.views import oauth2_login
from .callback import Walk, _approve, walk_row

SANDBOX_USER_EMAIL = "sandbox.user@example.com"  # the sandbox's one user (data.make_user)


def user_linked() -> None:
    """The portal user allauth logs in: linked to the sandbox's user, email verified."""
    user = get_user_model().objects.create_user(
        username="peer@bench.example", email=SANDBOX_USER_EMAIL, password=None
    )
    EmailAddress.objects.create(user=user, email=SANDBOX_USER_EMAIL, verified=True, primary=True)
    uid = data.make_user(SANDBOX_USER_EMAIL)["id"]
    SocialAccount.objects.create(user=user, provider="sagebench", uid=uid)


def _start(host: str) -> tuple[str, str]:
    """Run allauth's login view on a fresh session; return (authorize URL, session key)."""
    request = RequestFactory().post(
        reverse("sagebench_login"), HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https"
    )
    request.session = SessionStore()
    request.user = AnonymousUser()
    response = oauth2_login(request)
    if response.status_code != 302:
        raise RuntimeError(f"allauth's login view answered {response.status_code}")
    return response["Location"], request.session.session_key or ""


class Entries:
    """Prepared callbacks, and which of their sessions allauth has logged in (cycled)."""

    def __init__(self, host: str):
        self.host = host
        self.keys: list[str] = []

    def create(self, count: int) -> list[tuple[str, str]]:
        started = [_start(self.host) for _ in range(count)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            paths = list(pool.map(_approve, [url for url, _ in started]))
        self.keys += [key for _, key in started]
        cookie = settings.SESSION_COOKIE_NAME
        return [(path, f"{cookie}={key}") for path, (_, key) in zip(paths, started, strict=True)]

    def logged_in(self) -> int:
        """A login cycles the session key: the entry's own session is gone."""
        remaining = 0
        for first in range(0, len(self.keys), 5000):
            chunk = self.keys[first : first + 5000]
            remaining += Session.objects.filter(session_key__in=chunk).count()
        return len(self.keys) - remaining


def row(walk: Walk, *, size: int) -> report.Row:
    user_linked()
    entries = Entries(f"127.0.0.1:{walk.port}")
    return walk_row(
        walk,
        label=report.ALLAUTH,
        size=size,
        make_entries=entries.create,
        done=entries.logged_in,
        done_word="logged in",
        host=entries.host,
    )
