from django.conf import settings
from django.core.checks import Error, register


@register()
def encryption_keys_check(app_configs, **kwargs):
    """Secrets cannot be stored or read without FIELD_ENCRYPTION_KEYS."""
    if not settings.FIELD_ENCRYPTION_KEYS:
        return [
            Error(
                "FIELD_ENCRYPTION_KEYS is empty: secrets cannot be encrypted or decrypted.",
                hint="Set FIELD_ENCRYPTION_KEYS (comma separated, newest first); "
                "`make run` writes one into .env for development.",
                id="portal.E001",
            )
        ]
    return []
