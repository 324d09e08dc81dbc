from allauth.account.adapter import DefaultAccountAdapter


class NoSignupAccountAdapter(DefaultAccountAdapter):
    """Users are created by support staff or `create_organization`, never by sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False
