from pathlib import Path

import pytest
from django.utils import translation

pytest_plugins = [
    "tests.common.factories",
    "tests.sage.sandbox_fixtures",
    "tests.common.db_faults",
    "tests.webhooks.fixtures",
]

FRENCH_CATALOGUE = Path(__file__).resolve().parent.parent / "locale/fr/LC_MESSAGES/django.mo"


def pytest_sessionstart(session):
    """Stop at once when the French catalogue is not compiled: many tests read French pages."""
    if not FRENCH_CATALOGUE.exists():
        pytest.exit("French translations are not compiled: run `make translations`.", returncode=4)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Hash test passwords quickly; production keeps Django's default hashers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Keep the files tests save (organizations' logos) out of the project."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def english_by_default():
    """Start every test in English: a request in French leaves French active in its thread."""
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Start each test with an empty cache: allauth's login rate limits count in it."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def sage_is_never_reached(settings):
    """Point every Sage URL at a closed loopback port unless a test asks for the sandbox.

    Saving keys asks Sage about them: a test that does not care gets "could not be
    reached" at once, and no test reaches the real Sage. `sage_sandbox` overrides these.
    """
    from integrations.sage.endpoints import URL_SETTINGS

    for name in URL_SETTINGS:
        setattr(settings, name, "https://127.0.0.1:9/closed")  # discard port: nothing listens
