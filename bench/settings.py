"""The bench's settings: production settings, with the bench's URLconf for the baseline view.

Plus allauth's social accounts and the bench's minimal allauth provider for the
Sage sandbox (bench/allauth_sage), the peer whose OAuth2 callback the bench
measures beside ours: bench code only, never in the portal's settings.
"""

from portal.settings import *  # noqa: F403

from . import credentials

ROOT_URLCONF = "bench.urls"

INSTALLED_APPS = [*INSTALLED_APPS, "allauth.socialaccount", "bench.allauth_sage"]  # noqa: F405
SOCIALACCOUNT_PROVIDERS = {
    "sagebench": {
        "APPS": [{"client_id": credentials.CLIENT_ID, "secret": credentials.CLIENT_SECRET}],
        "OAUTH_PKCE_ENABLED": True,
        # A v3.1 code from the sandbox, as the portal asks for.
        "AUTH_PARAMS": {"filter": "apiv3.1", "country": "GB"},
    }
}
SOCIALACCOUNT_STORE_TOKENS = True  # like ours, it keeps the tokens (in plain text)
