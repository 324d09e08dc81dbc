from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning

from integrations.crypto import key_problems


@register()
def encryption_keys_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Secrets cannot be stored or read without FIELD_ENCRYPTION_KEYS."""
    if not settings.FIELD_ENCRYPTION_KEYS and not settings.SOURCE_ONLY:
        return [
            Error(
                "FIELD_ENCRYPTION_KEYS is empty: secrets cannot be encrypted or decrypted.",
                hint="Set FIELD_ENCRYPTION_KEYS (comma separated, newest first); "
                "`make run` writes one into .env for development.",
                id="portal.E001",
            )
        ]
    return [
        Error(
            problem,
            hint="Each key is 32 random bytes in urlsafe base64, as "
            "`python -c 'from integrations.crypto import generate_key; print(generate_key())'` "
            "prints.",
            id="portal.E003",
        )
        for problem in key_problems(settings.FIELD_ENCRYPTION_KEYS)
    ]


@register(Tags.caches, deploy=True)
def shared_cache_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Login rate limits count in the cache: a per-process cache lets each worker count apart."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("LocMemCache", "DummyCache")):
        return [
            CheckWarning(
                f"The default cache ({backend}) is not shared between workers, so the "
                "login rate limits are per process.",
                hint="Set CACHE_URL to a shared cache, e.g. rediscache://127.0.0.1:6379/1.",
                id="portal.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def sage_sandbox_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """The Sage stand-in hands out codes and tokens to anyone: never in a deployment."""
    if settings.SAGE_SANDBOX:
        return [
            Error(
                "SAGE_SANDBOX is on: the Sage stand-in answers on the portal's origin and "
                "plain http is allowed to it.",
                hint="Unset SAGE_SANDBOX (and SAGE_SANDBOX_ALLOW_WITHOUT_DEBUG) in production.",
                id="portal.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def webhooks_loopback_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Webhooks to loopback (tests, `make run`) would let an admin make the portal call itself."""
    if settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP:
        return [
            Error(
                "WEBHOOKS_ALLOW_LOOPBACK_HTTP is on: webhook endpoints may point at this "
                "machine's loopback addresses, over plain http.",
                hint="Unset WEBHOOKS_ALLOW_LOOPBACK_HTTP in production.",
                id="portal.E004",
            )
        ]
    return []
