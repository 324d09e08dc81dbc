import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402

if settings.SAGE_SANDBOX:
    # The Sage stand-in answers under its own prefix, beside the portal.
    from integrations.linking.services import callback_url  # noqa: E402
    from integrations.sage.sandbox import mount_sandbox  # noqa: E402

    application = mount_sandbox(
        application, prefix=settings.SAGE_SANDBOX_PREFIX, redirect_uris=[callback_url()]
    )
