"""What `make mutate` mutates, and which tests it runs against each mutant.

One target per module of the security core. `functions` limits the mutants to
those functions (decorators included); an empty tuple mutates the whole module.
`tests` are the tests that exercise the module: only they run against its
mutants, so that a mutant costs seconds, not the whole suite.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    path: str
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()


CALLBACK_TESTS = (
    "tests/services/test_callback.py",
    "tests/views/test_link_pages.py",
    # A link URL renewed during the trip, rejected keys, unreadable secrets at the callback.
    "tests/services/test_revocation.py",
    "tests/views/test_keys_rejected.py",
    "tests/crypto/test_unreadable_secrets.py",
    # The way back: where the outcome sends the customer (issue 12).
    "tests/services/test_way_back.py",
)
# The tenancy walks over every URL, the organization switch, the roles.
TENANCY_TESTS = (
    "tests/portal/test_foundation.py",
    "tests/portal/test_audit.py",
    "tests/views/test_companies.py",
    "tests/views/test_integration_settings.py",
)

# The building blocks' own tests first: most mutants die there within seconds. The
# mutants change no model, so the test database is kept between them (--reuse-db):
# half of a mutant's time on 2 busy cores was creating it.
SYNC_TESTS = ("--reuse-db", "tests/sync/test_sync_cursor.py", "tests/sync/test_sync_engine.py")

TARGETS = {
    # The sync's cursor and upsert (issue 19): what a pass asks Sage, where it resumes,
    # which records count as created, updated or deleted. (_upsert_compared, SQLite's
    # path for `make run`, is not mutated: the runs are on PostgreSQL.)
    "sync": Target(
        "integrations/sync/services.py",
        SYNC_TESTS,
        (
            "sage_time",
            "_by_sage_id",
            "records_store",
            "_upsert_page",
            "records_flag_deleted",
            "_begin_pass",
            "_params",
            "_end_phase",
        ),
    ),
    # Which worker holds a sync run (issue 19): the claim under SKIP LOCKED and its lease,
    # the queued runs a worker with room takes (oldest first, none held back by a 429),
    # and which of the pages asked are stored together.
    "sync_claim": Target(
        "integrations/sync/services.py",
        (
            "--reuse-db",
            "tests/sync/test_sync_claim.py",
            "tests/sync/test_sync_engine.py",
            "tests/sync/test_sync_workers.py::"
            "test_one_task_runs_the_queued_syncs_its_worker_has_room_for",
        ),
        ("_claim", "_claim_next", "_take", "_next_in_line"),
    ),
    # The callback's state check: exists, unused, unexpired, this browser; consumed once.
    "linking": Target(
        "integrations/linking/services.py",
        (*CALLBACK_TESTS, "tests/integrations/test_models.py", "tests/portal/test_audit.py"),
        ("authorization_consume", "browser_binding"),
    ),
    # The state's QuerySet rule (`usable()`), which the state check reads through.
    "authorization_usable": Target(
        "integrations/models.py",
        ("tests/integrations/test_models.py", "tests/services/test_callback.py"),
        ("usable", "default_authorization_expiry"),
    ),
    # The callback's outcome: provider errors, refusals, the code exchange, the link.
    "link_callback": Target(
        "integrations/linking/callback.py", (*CALLBACK_TESTS, "tests/portal/test_audit.py")
    ),
    # PKCE and the authorize URL.
    "oauth": Target(
        "integrations/sage/oauth.py",
        ("tests/sage/test_oauth.py", "tests/services/test_callback.py"),
        ("pkce_pair", "authorization_url"),
    ),
    # Tenancy and roles: the decorators, the current organization, `for_org`, is_admin.
    "tenancy": Target(
        "portal/organizations/tenancy.py",
        TENANCY_TESTS,
    ),
    # The current organization, and two-factor sign-in enforced for staff and, where the
    # organization requires it, for its admins (issue 13).
    "middleware": Target(
        "portal/organizations/middleware.py",
        (*TENANCY_TESTS, "tests/portal/test_two_factor.py"),
    ),
    "roles": Target(
        "portal/organizations/models.py",
        TENANCY_TESTS,
        ("is_admin", "for_org", "for_user"),
    ),
    # Encryption at rest and the field that uses it.
    # The key format check and unreadable secrets are held by test_unreadable_secrets.
    "crypto": Target(
        "integrations/crypto.py",
        ("tests/crypto/test_encryption.py", "tests/crypto/test_unreadable_secrets.py"),
    ),
    "fields": Target(
        "integrations/fields.py",
        ("tests/crypto/test_encryption.py", "tests/crypto/test_unreadable_secrets.py"),
    ),
    # The token refresh under its row lock (PostgreSQL runs the concurrent test).
    "refresh": Target(
        "integrations/connections/refresh.py",
        (
            "tests/services/test_refresh.py",
            "tests/services/test_keepalive.py",
            # A token refused early, and rotated tokens that cannot be saved.
            "tests/services/test_refresh_recovery.py",
            # A failed refresh told to the platform's webhooks, with Sage's error.
            "tests/services/test_webhook_events.py",
        ),
        ("connection_refresh", "locked_row", "check_usable", "_record_refresh_failure"),
    ),
    # The v3.0 request signer.
    "signing": Target(
        "integrations/sage/signing.py", ("tests/sage/test_signing.py", "tests/portal/test_audit.py")
    ),
    # Where a webhook may go (no SSRF): public addresses only, IPv4 inside IPv6 unwrapped.
    "webhook_http": Target(
        "integrations/webhooks/http.py",
        ("tests/webhooks/test_http.py", "tests/webhooks/test_tls.py"),
        ("embedded_ipv4", "_one_allowed", "address_allowed", "resolve"),
    ),
    # An event as the platform gets it: numbered in its company's sequence (one after the
    # other, going on across the events' retention), kept for the feed, queued for the
    # organization's enabled endpoints that subscribe to it. (_next_sequence is one SQL
    # statement: nothing of its own to mutate but through webhook_emit's tests.)
    "event_sequence": Target(
        "integrations/webhooks/services.py",
        (
            "--reuse-db",
            "tests/services/test_event_sequence.py",
            "tests/services/test_webhooks.py",
        ),
        ("_next_sequence", "webhook_emit"),
    ),
    # The REST API's key check: one 401 for every bad key, and wrong keys counted per
    # address and per key prefix, refused (429) past the limit (issue 20).
    "api_key_auth": Target(
        "integrations/api/authentication.py",
        ("tests/api/test_authentication.py", "tests/api/test_contract.py"),
    ),
    # Key validation of the settings form.
    "validate_key": Target(
        "integrations/configuration/forms.py",
        ("tests/services/test_credentials.py", "tests/portal/test_audit.py"),
        ("validate_key",),
    ),
}

# Operators left out, for every target (regular expressions on cosmic-ray's names).
EXCLUDED_OPERATORS = (
    # Bit shifts and bitwise operators in place of arithmetic, and the reverse. The
    # core's only arithmetic is crypto's `12 + 16` (nonce and tag) and string joins:
    # there `12 | 16` and `12 ^ 16` are 28 too (equivalent), and the others fail as
    # the arithmetic replacements that are kept do. They would add noise, not tests.
    r"core/ReplaceBinaryOperator_.*_(RShift|LShift|BitOr|BitAnd|BitXor)$",
    r"core/ReplaceBinaryOperator_(RShift|LShift|BitOr|BitAnd|BitXor)_.*",
    # Unary +, - and ~ put in: the core negates no number. (Removing a `not` is kept.)
    r"core/ReplaceUnaryOperator_.*_(UAdd|USub|Invert)$",
)
