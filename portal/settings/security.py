"""Secrets, hosts, sign-in (allauth, two-factor, invitations), headers, cookies, CSP."""

from django.utils.csp import CSP

from .environment import DEBUG, env, required

SECRET_KEY = required("DJANGO_SECRET_KEY") or "insecure-development-key-only-for-debug"
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in required("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()
]

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: login by email and password; sign-up only through an invitation.
ACCOUNT_ADAPTER = "portal.organizations.adapters.InvitationOnlyAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
# The admin login goes through allauth (portal/urls.py), so these cover it too.
# Wrong passwords: 5 for one account from one address in LOGIN_LOCKOUT_SECONDS (the
# key is the account and the address: portal.adapters), so that someone else's guesses
# never lock the real user out; 10 a minute from one address; and, against guesses
# spread over many addresses, 30 for one account from anywhere in the same window.
# The sign-in page says how long, and links to password reset.
LOGIN_LOCKOUT_SECONDS = 300
ACCOUNT_FORMS = {"login": "portal.organizations.adapters.LoginForm"}
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"10/m/ip,5/{LOGIN_LOCKOUT_SECONDS}s/key",
    "login_failed_account": f"30/{LOGIN_LOCKOUT_SECONDS}s/key",
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    # The customer's link flow: starts of one link URL (key) and from one address (ip).
    "link_start": env.str("LINK_START_RATE_LIMIT", default="10/10m/key,30/10m/ip"),
}
# Behind N reverse proxies, the client's IP is the Nth from the right in
# X-Forwarded-For; 0 (the default) uses REMOTE_ADDR.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
# Two-factor sign-in (allauth.mfa): an authenticator app, with recovery codes, and
# security keys (WebAuthn: allauth's script files, allowed by the CSP's 'self').
# portal.organizations.middleware.TwoFactorRequiredMiddleware sends admins of organizations that
# require it, and support staff at /admin/, to set it up first.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_ADAPTER = "portal.organizations.adapters.EncryptingMFAAdapter"  # secrets encrypted at rest
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Integrations portal")
# One 30-second step either side for a phone's clock drift (RFC 6238 §6); a code is
# still refused a second time within the window.
MFA_TOTP_TOLERANCE = 1
# Invitations to join an organization: their link works once, until then.
INVITATION_LIFETIME_DAYS = env.int("INVITATION_LIFETIME_DAYS", default=7)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# Security defaults (strict with debug off; see README "Production").
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_COOKIES = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # Strict would drop the session on the way back from Sage.
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script or style anywhere (the admin included): scripts are files,
# loaded with the request's nonce. form-action: the link flow's country page adds
# Sage's authorize origin (integrations/linking/views.py), no other page needs it.
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "frame-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
# Error reports (500 emails, logged tracebacks) never show a secret: variables
# named like secrets, the callback's query string and secret-shaped text are hidden.
DEFAULT_EXCEPTION_REPORTER = "portal.logging.RedactingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.logging.RedactingExceptionReporterFilter"
