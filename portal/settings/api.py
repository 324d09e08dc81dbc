"""The platform's REST API (integrations/api/)."""

from .environment import env

# The platform's REST API (integrations/api): Django REST framework, keys of one
# organization each (`Authorization: Api-Key <key>`), throttled per key in the
# default cache (shared by every worker in production: CACHE_URL).
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["integrations.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["integrations.api.authentication.HasOrganizationKey"],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.throttling.ApiKeyThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "integrations.api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Integrations portal API",
    "DESCRIPTION": (
        "Create companies and their link URLs, read their Sage connection, and read their "
        "Sage data through the proxy. Errors are RFC 9457 problem details."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"ConnectionStatus": "integrations.models.Connection.Status"},
}
