"""The tests' environment, in one place: a pytest plugin (`-p tests.environment` in
pyproject's addopts) that sets these variables before pytest-django loads
`portal.settings`, so the tests run the production settings with only this relaxed.

They go into `os.environ` (replacing what the shell had), so the processes the tests
start (`manage.py` workers and commands) inherit them too.
"""

import os

TEST_ENVIRONMENT = {
    # Tests run with debug off, like production, but over plain HTTP on loopback.
    "DJANGO_ENV_FILE": "",  # not the developer's .env
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdefghijklmnop",
    "FIELD_ENCRYPTION_KEYS": "o0bqb5g0H6wZ3z1n2cN0Yx9yDkq7XvY3YqkX1bq2vVQ=",
    "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "PORTAL_BASE_URL": "http://testserver",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "STATIC_MANIFEST": "0",
    "SAGE_SANDBOX": "0",
    # The tests point the SAGE_* URLs at a sandbox on http://127.0.0.1 only when a test
    # starts (fixture `sage_sandbox`), after start-up has decided, from the configured
    # https URLs, that oauthlib need not accept http. Our own transport check still
    # refuses plain http anywhere but on loopback.
    "OAUTHLIB_INSECURE_TRANSPORT": "1",
    "TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
    # A sync task holds its own run only: a test's other queued runs stay queued (the
    # worker that holds several is tested on its own, tests/sync/test_sync_workers.py).
    "SYNC_RUNS_PER_WORKER": "1",
    "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
}

os.environ.update(TEST_ENVIRONMENT)
