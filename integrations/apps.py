import os

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from integrations.accounting import plain_http_configured

        if plain_http_configured():
            # oauthlib refuses plain http unless told otherwise, and reads this variable at
            # each call: set it once, here. sage.http.check_transport stays the real guard
            # (http only on loopback or with SAGE_SANDBOX on).
            os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
