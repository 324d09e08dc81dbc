"""The provider allauth discovers in the installed app (its `provider_classes`)."""

from allauth.socialaccount.providers.base import ProviderAccount
from allauth.socialaccount.providers.oauth2.provider import OAuth2Provider

from .views import SageBenchOAuth2Adapter


class SageBenchProvider(OAuth2Provider):
    id = "sagebench"
    name = "Sage (bench)"
    account_class = ProviderAccount
    oauth2_adapter_class = SageBenchOAuth2Adapter
    pkce_enabled_default = True

    def get_default_scope(self):
        return ["full_access"]

    def extract_uid(self, data):
        return str(data["id"])

    def extract_common_fields(self, data):
        return {"email": data.get("email")}


provider_classes = [SageBenchProvider]
