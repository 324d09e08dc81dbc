"""The forms of Settings › Team: an invitation, a member's role, the two-factor rule."""

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from portal.organizations.models import Membership


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        help_text=_("Admins change settings and manage the team; members only read."),
    )
    language = forms.ChoiceField(
        label=_("Language of the email"), choices=settings.LANGUAGES, initial=get_language
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class TwoFactorRuleForm(forms.Form):
    required = forms.BooleanField(
        label=_("Require two-factor sign-in for admins"),
        required=False,
        help_text=_(
            "Admins without an authenticator app are asked to set one up before anything else."
        ),
    )
