"""allauth's sign-in form, knowing when it refused for too many wrong passwords."""

from allauth.account.forms import LoginForm as AllauthLoginForm
from django.forms.forms import NON_FIELD_ERRORS


class LoginForm(AllauthLoginForm):
    @property
    def locked_out(self) -> bool:
        """Too many wrong passwords: the page links to password reset (ACCOUNT_FORMS)."""
        return self.has_error(NON_FIELD_ERRORS, code="too_many_login_attempts")
