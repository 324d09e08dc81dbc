"""The platform's REST API (integrations/api/)."""

from .base import PORTAL_BASE_URL
from .environment import env

# The platform's REST API (integrations/api): Django REST framework, keys of one
# organization each (`Authorization: Api-Key <key>`), throttled per key in the
# default cache (shared by every worker in production: CACHE_URL).
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
# Wrong API keys: past this many in a window (seconds) from one address, or for one key
# prefix, both are refused (429) until the window ends (integrations/api/authentication.py).
API_AUTH_FAILURE_LIMIT = env.int("API_AUTH_FAILURE_LIMIT", default=20)
API_AUTH_FAILURE_WINDOW = env.int("API_AUTH_FAILURE_WINDOW", default=300)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["integrations.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["integrations.api.authentication.HasOrganizationKey"],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.throttling.ApiKeyThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["integrations.api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "integrations.api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "integrations.api.schema.PortalAutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Integrations portal API",
    "DESCRIPTION": (
        "Create companies and their link URLs, read their Sage connection, and read their "
        "Sage data through the proxy.\n\n"
        "**Errors** are RFC 9457 problem details (`application/problem+json`) with a stable "
        "`code` to branch on (see the `code` enum of the Problem schema); `detail` is for "
        "people. Every answer carries an `X-Request-ID` (yours when you send a sane one): "
        "quote it to support.\n\n"
        "**Input** is strict: a field an operation does not take is a 400 naming it, text "
        "fields take strings only, bodies are at most 2.5 MB (413) and JSON.\n\n"
        "**Limits**: each key may send API_THROTTLE_RATE requests (600 a minute by "
        "default); every answer says where it stands in `RateLimit-Limit`, "
        "`RateLimit-Remaining` and `RateLimit-Reset` (seconds), and a 429 says when to "
        "retry in `Retry-After`. Wrong keys from one address, or for one key prefix, are "
        "refused with a 429 `too_many_failed_attempts` after 20 in 5 minutes.\n\n"
        "**Retries**: send an `Idempotency-Key` with a POST to retry it safely.\n\n"
        "**Times** are ISO 8601 in UTC (`2026-12-01T09:30:00Z`). Lists are cursor-paginated: "
        "follow `next`. Answers are never cached (`Cache-Control: no-store`)."
    ),
    "VERSION": "1.1.0",
    # The portal's own origin (PORTAL_BASE_URL), where its API is served.
    "SERVERS": [{"url": PORTAL_BASE_URL, "description": "This portal"}],
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ConnectionStatus": "integrations.models.Connection.Status",
        "ConnectionState": "integrations.connections.states.State",
        "WebhookDeliveryState": "integrations.webhooks.models.WebhookDelivery.State",
        "WebhookEventType": "integrations.webhooks.models.WebhookEvent",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.api.schema.refuse_unknown_fields",
    ],
}
