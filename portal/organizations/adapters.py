"""allauth's hooks: sign-up is open only to the holder of a valid invitation.

Opening an invitation's link (`portal.organizations.views.invitation_open`) puts the
invitation's id in the session and stashes its email as verified; allauth's sign-up
page then takes that email only, and the new account joins the organization in the
same transaction as it is created (or neither happens).
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from integrations import crypto
from portal.organizations.models import Invitation
from portal.organizations.services import TeamError, invitation_accept
from portal.organizations.tenancy import SESSION_KEY

INVITATION_SESSION_KEY = "pending_invitation"


def pending_invitation(request) -> Invitation | None:
    """The usable invitation whose link this browser opened, if any."""
    pk = request.session.get(INVITATION_SESSION_KEY) if request is not None else None
    if not isinstance(pk, int):
        return None
    return Invitation.objects.usable().select_related("organization").filter(pk=pk).first()


def account_exists(email: str) -> bool:
    return get_user_model().objects.filter(email__iexact=email).exists()


class InvitationOnlyAccountAdapter(DefaultAccountAdapter):
    """Users are created by support staff, `create_organization`, or an invitation."""

    def is_open_for_signup(self, request) -> bool:
        invitation = pending_invitation(request)
        return invitation is not None and not account_exists(invitation.email)

    def clean_email(self, email: str) -> str:
        invitation = pending_invitation(context.request)
        if invitation is not None and email.lower() != invitation.email.lower():
            raise ValidationError(
                _("Sign up with the address the invitation was sent to: %(email)s.")
                % {"email": invitation.email}
            )
        return super().clean_email(email)

    def save_user(self, request, user, form, commit=True):
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

    def get_signup_redirect_url(self, request) -> str:
        return reverse("home")


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
