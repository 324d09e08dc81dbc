"""allauth's hooks: sign-up is open only to the holder of a valid invitation.

Opening an invitation's link (`portal.organizations.views.invitation_open`) puts the
invitation's id in the session and stashes its email as verified; allauth's sign-up
page then takes that email only, and the new account joins the organization in the
same transaction as it is created (or neither happens).
"""

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal import ratelimit
from allauth.core.internal.ratelimit import get_ip
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integrations import crypto
from portal.organizations.models import Invitation
from portal.organizations.services import TeamError, invitation_accept
from portal.organizations.tenancy import SESSION_KEY

INVITATION_SESSION_KEY = "pending_invitation"


def pending_invitation(request: HttpRequest | None) -> Invitation | None:
    """The usable invitation whose link this browser opened, if any."""
    pk = request.session.get(INVITATION_SESSION_KEY) if request is not None else None
    if not isinstance(pk, int):
        return None
    return Invitation.objects.usable().select_related("organization").filter(pk=pk).first()


def account_exists(email: str) -> bool:
    return get_user_model().objects.filter(email__iexact=email).exists()


class InvitationOnlyAccountAdapter(DefaultAccountAdapter):
    """Users are created by support staff, `create_organization`, or an invitation."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        invitation = pending_invitation(request)
        return invitation is not None and not account_exists(invitation.email)

    def clean_email(self, email: str) -> str:
        invitation = pending_invitation(context.request)
        if invitation is not None and email.lower() != invitation.email.lower():
            raise ValidationError(
                _("Sign up with the address the invitation was sent to: %(email)s.")
                % {"email": invitation.email}
            )
        cleaned: str = super().clean_email(email)
        return cleaned

    def save_user(self, request: HttpRequest, user: User, form: Form, commit: bool = True) -> User:
        invitation = pending_invitation(request)
        if invitation is None:
            raise ImmediateHttpResponse(redirect("integrations:invitation_accept"))
        try:
            with transaction.atomic():
                user = super().save_user(request, user, form, commit=commit)
                invitation_accept(invitation=invitation, user=user)
        except TeamError:
            raise ImmediateHttpResponse(redirect("integrations:invitation_accept")) from None
        request.session.pop(INVITATION_SESSION_KEY, None)
        request.session[SESSION_KEY] = invitation.organization_id
        return user

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        return reverse("home")

    # Wrong passwords are counted per account *and* address (ACCOUNT_RATE_LIMITS'
    # "login_failed" key), and per account from anywhere ("login_failed_account").

    @property
    def error_messages(self) -> dict[str, str]:
        minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
        return {
            **DefaultAccountAdapter.error_messages,
            "too_many_login_attempts": ngettext(
                "Too many wrong passwords. Try again in %(minutes)d minute, or reset "
                "your password.",
                "Too many wrong passwords. Try again in %(minutes)d minutes, or reset "
                "your password.",
                minutes,
            )
            % {"minutes": minutes},
        }

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: str) -> str:
        login = credentials.get("email", credentials.get("username", "")).lower()
        return f"{get_current_site(request).domain}:{login}:{get_ip(request)}"

    def pre_authenticate(self, request: HttpRequest, **credentials: str) -> None:
        super().pre_authenticate(request, **credentials)
        login = credentials.get("email", credentials.get("username", "")).lower()
        self._account_rl_usage = ratelimit.consume(
            request, app="allauth.account", action="login_failed_account", key=login
        )
        if not self._account_rl_usage:
            self._rollback_login_failed_rl_usage()
            raise self.validation_error("too_many_login_attempts")

    def _rollback_login_failed_rl_usage(self) -> None:
        super()._rollback_login_failed_rl_usage()
        usage = getattr(self, "_account_rl_usage", None)
        if usage:
            usage.rollback()

    def _delete_login_attempts_cached_email(self, request: HttpRequest, **credentials: str) -> None:
        super()._delete_login_attempts_cached_email(request, **credentials)
        login = credentials.get("email", credentials.get("username", "")).lower()
        ratelimit.clear(request, app="allauth.account", action="login_failed_account", key=login)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Setting up (or managing) two-factor sign-in right after signing in does not ask
        for the password again: the sign-in proved it, within allauth's reauthentication
        window (ACCOUNT_REAUTHENTICATION_TIMEOUT, 5 minutes)."""
        required: bool = super().is_reauthentication_required(app=app, **kwargs)
        if not required or app != "allauth.mfa":
            return required
        return not signed_in_recently(context.request)


def signed_in_recently(request: HttpRequest | None) -> bool:
    """Whether this session's user signed in within allauth's reauthentication window."""
    if request is None or not request.user.is_authenticated:
        return False
    records = get_authentication_records(request, request.user)
    return any(
        time.time() - record.get("at", 0) < account_settings.REAUTHENTICATION_TIMEOUT
        for record in records
    )


# What allauth.mfa stores encrypted: a TOTP secret, a recovery-code seed (and codes
# migrated from elsewhere). Bound to this purpose, not to a row: allauth encrypts
# before the row exists.
MFA_ASSOCIATED_DATA = "allauth.mfa"
MFA_SECRET_KEYS = ("secret", "seed")


class EncryptingMFAAdapter(DefaultMFAAdapter):
    """Two-factor secrets encrypted at rest with FIELD_ENCRYPTION_KEYS, as Sage's are
    (`rotate_encryption_keys` re-encrypts them too)."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text, associated_data=MFA_ASSOCIATED_DATA)

    def decrypt(self, encrypted_text: str) -> str:
        if crypto.stored_key_id(encrypted_text) is None:
            return encrypted_text  # stored in the clear, before this adapter
        return crypto.decrypt(encrypted_text, associated_data=MFA_ASSOCIATED_DATA)


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form, knowing when it refused for too many wrong passwords
    (ACCOUNT_FORMS): the page then links to password reset."""

    @property
    def locked_out(self) -> bool:
        locked: bool = self.has_error(NON_FIELD_ERRORS, code="too_many_login_attempts")
        return locked
