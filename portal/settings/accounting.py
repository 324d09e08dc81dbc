"""The accounting platform (Sage): its URLs, the sandbox, the connections' timings."""

from .base import CACHES, PORTAL_BASE_URL
from .environment import DEBUG, env

# Sage Accounting endpoints: Sage's production URLs by default; tests and the
# sandbox point them at a loopback server. Tenants cannot change them.
SAGE_SANDBOX = env.bool("SAGE_SANDBOX", default=False)
SAGE_SANDBOX_ALLOW_WITHOUT_DEBUG = env.bool("SAGE_SANDBOX_ALLOW_WITHOUT_DEBUG", default=False)
if SAGE_SANDBOX and not DEBUG and not SAGE_SANDBOX_ALLOW_WITHOUT_DEBUG:
    raise SystemExit(
        "ImproperlyConfigured: SAGE_SANDBOX is on while DJANGO_DEBUG is off; "
        "set SAGE_SANDBOX_ALLOW_WITHOUT_DEBUG=1 to run the Sage stand-in anyway."
    )
SAGE_SANDBOX_PREFIX = "/sage-sandbox"
_sandbox = f"{PORTAL_BASE_URL}{SAGE_SANDBOX_PREFIX}"


def _sage_url(name: str, production: str, sandbox_path: str) -> str:
    """A Sage URL from the environment; else the sandbox's when it is on, else Sage's own."""
    url: str = env.str(name, default=f"{_sandbox}{sandbox_path}" if SAGE_SANDBOX else production)
    return url


SAGE_AUTHORIZE_URL = _sage_url(
    "SAGE_AUTHORIZE_URL", "https://www.sageone.com/oauth2/auth/central", "/oauth2/auth/central"
)
SAGE_TOKEN_URL = _sage_url("SAGE_TOKEN_URL", "https://oauth.accounting.sage.com/token", "/token")
SAGE_REVOKE_URL = _sage_url(
    "SAGE_REVOKE_URL", "https://oauth.accounting.sage.com/revoke", "/revoke"
)
SAGE_API_URL = _sage_url("SAGE_API_URL", "https://api.accounting.sage.com/v3.1", "/v3.1")
SAGE_V30_TOKEN_URL = _sage_url(
    "SAGE_V30_TOKEN_URL", "https://app.sageone.com/oauth2/token", "/v30/token"
)
SAGE_V30_API_URL = _sage_url(
    "SAGE_V30_API_URL",
    "https://api.columbus.sage.com/uki/sageone/accounts/v3",
    "/v30/accounts/v3",
)
SAGE_DEVELOPER_PORTAL_URL = "https://developerselfservice.sageone.com/session/new"
SAGE_HTTP_TIMEOUT = env.float("SAGE_HTTP_TIMEOUT", default=10.0)
# Connections kept open to each Sage host, per thread (see integrations/sage/http.py).
SAGE_HTTP_POOL_SIZE = env.int("SAGE_HTTP_POOL_SIZE", default=2)
# A company page's live data is read again after this many seconds; the last good read
# is kept this long to be shown (marked as such) while Sage is down.
LIVE_DATA_CACHE_SECONDS = env.int("LIVE_DATA_CACHE_SECONDS", default=60)
LIVE_DATA_LAST_SECONDS = env.int("LIVE_DATA_LAST_SECONDS", default=24 * 3600)
# A 429 from Sage's API is retried this many times in all, waiting Retry-After
# (capped at SAGE_RETRY_WAIT_CAP seconds) between tries.
SAGE_API_MAX_ATTEMPTS = env.int("SAGE_API_MAX_ATTEMPTS", default=4)
SAGE_RETRY_WAIT_CAP = env.float("SAGE_RETRY_WAIT_CAP", default=10.0)
# A page's calls to Sage's API, 429 waits included, end within this many seconds
# (background jobs have no such budget: they wait as SAGE_API_MAX_ATTEMPTS allows).
SAGE_PAGE_BUDGET = env.float("SAGE_PAGE_BUDGET", default=5.0)
# The longest wait (s) for a connection's row lock before a refresh: a page then says
# "busy, try again" and the keep-alive tries on its next pass (PostgreSQL lock_timeout).
REFRESH_LOCK_TIMEOUT = env.float("REFRESH_LOCK_TIMEOUT", default=3.0)

# A ceiling on the requests in flight to Sage (integrations/sage/concurrency.py), shared
# by every worker and machine through Redis: per Sage app (Sage allows 150 at once) and
# per linked business, so one busy customer cannot take every slot. Over it the API
# answers 429 with Retry-After, and nothing queues. Without Redis: per process.
SAGE_CONCURRENCY_PER_APP = env.int("SAGE_CONCURRENCY_PER_APP", default=150)
SAGE_CONCURRENCY_PER_BUSINESS = env.int("SAGE_CONCURRENCY_PER_BUSINESS", default=20)
_cache_redis = (
    CACHES["default"].get("LOCATION", "")
    if CACHES["default"].get("BACKEND", "").endswith("RedisCache")
    else ""
)
SAGE_CONCURRENCY_REDIS_URL = env.str(
    "SAGE_CONCURRENCY_REDIS_URL", default=_cache_redis if isinstance(_cache_redis, str) else ""
)
# The API's pass-through to Sage (/api/v1/companies/{id}/sage/{resource}): the Sage
# resources it reads (the first segment of the path; not the user's own record `user`
# nor the list of all the user's `businesses`), and the largest answer it passes on.
SAGE_PROXY_RESOURCES = env.list(
    "SAGE_PROXY_RESOURCES",
    default=[
        "addresses", "address_types", "analysis_types", "attachments", "bank_accounts",
        "bank_deposits", "bank_reconciliations", "bank_transfers", "business_exchange_rates",
        "business_settings", "catalog_item_types", "contact_allocations",
        "contact_opening_balances", "contact_payments", "contact_persons",
        "contact_person_types", "contact_types", "contacts", "countries", "currencies",
        "financial_settings", "invoice_settings", "journal_codes", "journals",
        "ledger_account_classifications", "ledger_account_opening_balances",
        "ledger_account_types", "ledger_accounts", "ledger_entries", "opening_balance_journals",
        "other_payments", "payment_methods", "products", "product_sales_price_types",
        "purchase_corrective_invoices", "purchase_credit_notes", "purchase_invoices",
        "purchase_quick_entries", "sales_corrective_invoices", "sales_credit_notes",
        "sales_estimates", "sales_invoices", "sales_quick_entries", "sales_quotes", "services",
        "service_rate_types", "stock_items", "stock_movements", "tax_profiles", "tax_rates",
        "tax_return_frequencies", "tax_schemes", "transaction_types", "transactions",
        "unallocated_artefacts",
    ],
)  # fmt: skip
SAGE_PROXY_MAX_BYTES = env.int("SAGE_PROXY_MAX_BYTES", default=10 * 1024 * 1024)

# The way back (integrations/redirect_urls.py): a platform's redirect URL after a link
# is https; plain http to a loopback host only under DEBUG or with this (tests, demos).
REDIRECT_URLS_ALLOW_LOOPBACK_HTTP = env.bool("REDIRECT_URLS_ALLOW_LOOPBACK_HTTP", default=False)

LINK_URL_LIFETIME_DAYS = env.int("LINK_URL_LIFETIME_DAYS", default=7)
KEEPALIVE_REFRESH_WITHIN_DAYS = env.int("KEEPALIVE_REFRESH_WITHIN_DAYS", default=7)
KEEPALIVE_INTERVAL_HOURS = env.float("KEEPALIVE_INTERVAL_HOURS", default=6)
