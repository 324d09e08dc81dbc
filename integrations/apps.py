import os

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from django.tasks.signals import task_started

        from integrations.accounting import plain_http_configured
        from integrations.webhooks.worker import worker_seen

        # Every task a worker starts stamps its heartbeat (the Webhooks page's warning).
        task_started.connect(worker_seen, dispatch_uid="integrations.worker_seen")

        if plain_http_configured():
            # oauthlib refuses plain http unless told otherwise, and reads this variable at
            # each call: set it once, here. sage.http.check_transport stays the real guard
            # (http only on loopback or with SAGE_SANDBOX on).
            os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
