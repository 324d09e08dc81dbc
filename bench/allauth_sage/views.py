"""The provider's OAuth2 adapter: the Sage URLs the portal uses (the sandbox's in the bench)."""

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.views import (
    OAuth2Adapter,
    OAuth2CallbackView,
    OAuth2LoginView,
)
from django.conf import settings
from django.http import HttpRequest


class SageBenchOAuth2Adapter(OAuth2Adapter):
    provider_id = "sagebench"

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.access_token_url = settings.SAGE_TOKEN_URL
        self.authorize_url = settings.SAGE_AUTHORIZE_URL
        self.profile_url = settings.SAGE_API_URL.rstrip("/") + "/user"

    def complete_login(self, request: HttpRequest, app, token, **kwargs):
        """Read the Sage user (one API call, as our callback reads the business)."""
        headers = {"Authorization": f"Bearer {token.token}", "Accept": "application/json"}
        with get_adapter().get_requests_session() as session:
            response = session.get(self.profile_url, headers=headers)
            response.raise_for_status()
            extra_data = response.json()
        return self.get_provider().sociallogin_from_response(request, extra_data)


oauth2_login = OAuth2LoginView.adapter_view(SageBenchOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(SageBenchOAuth2Adapter)
