from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from .provider import SageBenchProvider

urlpatterns = default_urlpatterns(SageBenchProvider)
