# Integrations portal. `make run` to try it, `make test` to test it.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# Django 6.1 needs Python 3.12+: take the first one found.
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 /usr/bin/python3.13 /usr/bin/python3.12; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
CHROMIUM ?= /usr/bin/chromium
# `make run PORT=8123`: the server's port; .env's PORTAL_BASE_URL follows it.
PORT ?= 8000

.PHONY: run test test-fast fuzz mutate install messages messages-check translations env demo bench lint typecheck imports format clean screenshots

# The Python dependencies are installed only when missing: when there is no virtualenv
# yet, or when pyproject.toml's content changed since the last install (the stamp keeps
# its hash, so a checkout or merge that only touches the file installs nothing).
$(VENV)/.installed: pyproject.toml
	@if test -x $(PY) && test -f $@ && test "$$(sha256sum < pyproject.toml)" = "$$(cat $@)"; then \
	  touch $@; \
	else \
	  test -n "$(PYTHON)" || { echo "No Python 3.12+ found (set PYTHON=/path/to/python3.12)"; exit 1; }; \
	  set -e; \
	  test -x $(PY) || $(PYTHON) -m venv $(VENV); \
	  echo "Installing the Python dependencies into $(VENV)"; \
	  $(PY) -m pip install --quiet --upgrade pip; \
	  $(PY) -m pip install --quiet -e '.[test]'; \
	  sha256sum < pyproject.toml > $@; \
	fi

install: $(VENV)/.installed

# Translations are compiled from locale/*/django.po on every run and test
# (gettext's msgfmt, from Debian's gettext package); .mo files are not committed.
gettext:
	@command -v msgfmt >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }

translations: install gettext
	DJANGO_SOURCE_ONLY=1 DJANGO_DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=staticfiles --verbosity 0

# Regenerate the French catalogue from the source and fill it from locale/fr/source/*.json.
messages: install gettext
	DJANGO_SOURCE_ONLY=1 DJANGO_DEBUG=1 $(PY) manage.py translate

# Fail when the catalogue is incomplete or out of date with the source (writes nothing).
messages-check: install gettext
	DJANGO_SOURCE_ONLY=1 DJANGO_DEBUG=1 DJANGO_ENV_FILE= $(PY) manage.py translate --check

# A local .env with generated secrets, written once and never committed.
.env: | install
	@echo "Writing .env with generated development secrets"
	@{ echo "DJANGO_DEBUG=1"; \
	   echo "DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	   echo "FIELD_ENCRYPTION_KEYS=$$($(PY) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"; \
	   echo "PORTAL_BASE_URL=http://127.0.0.1:$(PORT)"; \
	   echo "SAGE_SANDBOX=1"; \
	   echo "DEMO_ADMIN_PASSWORD=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(12))')"; } > .env

env: .env

demo: install .env translations
	@$(PY) -m portal.local_env .env $(PORT)
	$(PY) manage.py migrate --verbosity 0
	@$(PY) manage.py create_demo

# The Procfile's web server and task worker (webhooks, keep-alive), run by honcho;
# Ctrl-C stops both.
run: demo
	PY=$(PY) PORTAL_PORT=$(PORT) $(VENV)/bin/honcho start

chromium:
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install translations chromium
	@mkdir -p staticfiles  # whitenoise warns on every request when STATIC_ROOT is missing
	$(PY) -m pytest -m "not fuzz" $(PYTEST_ARGS)

# The README's pictures (docs/screenshots/), taken in Chromium from a throwaway portal
# with the sandbox: settings, enable dialog, customer link page, company page.
screenshots: install translations chromium
	@mkdir -p staticfiles
	$(PY) -m tests.e2e.screenshots

# The suite without the browser tests: no Chromium needed.
test-fast: install translations
	@mkdir -p staticfiles
	$(PY) -m pytest -m "not e2e and not fuzz" $(PYTEST_ARGS)

# The REST API fuzzed from its own OpenAPI schema (schemathesis, tests/api/test_fuzz.py):
# no 5xx, every answer as the schema says. Deterministic; FUZZ_EXAMPLES per operation.
FUZZ_EXAMPLES ?= 100
fuzz: install translations
	@mkdir -p staticfiles
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -m fuzz tests/api/test_fuzz.py $(PYTEST_ARGS)

# Mutation testing of the security core (cosmic-ray) on a throwaway PostgreSQL database:
# see docs/testing.md. Not part of .ci/run (too slow). Some targets only:
# `make mutate MODULES="linking oauth"`; `$(PY) -m mutation --list` lists them.
mutate: install translations
	@mkdir -p staticfiles
	$(PY) -m mutation $(MODULES)

lint: install imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djlint templates --lint
	git ls-files -z -- '*.py' | xargs -0 $(VENV)/bin/django-upgrade --target-version 6.1 --check

# The layer contracts of pyproject.toml's [tool.importlinter].
imports: install
	$(VENV)/bin/lint-imports

# mypy's Django plugin imports the settings: give them what they require.
typecheck: install
	DJANGO_DEBUG=1 DJANGO_ENV_FILE= \
	FIELD_ENCRYPTION_KEYS="$$($(PY) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')" \
	  $(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The load generator is Debian's wrk; the bench needs PostgreSQL on 127.0.0.1:5432.
bench: install translations
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 .mypy_cache
