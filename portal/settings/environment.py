"""What every settings module reads: the environment (django-environ), BASE_DIR, DEBUG.

Development values come from a local `.env` (written once by `make run`); production
reads the real environment. Required production secrets have no default: a bad deploy
stops at start with a one-line message that names the missing variable.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# DJANGO_ENV_FILE="" reads no file (the tests use that).
_env_file = Path(environ.Env().str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")))
if str(_env_file) not in ("", ".") and _env_file.is_file():
    env.read_env(str(_env_file), overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Commands that only read the models or the source, and never serve a page nor touch a
# secret (`makemigrations`, the translation commands), run in any clean checkout without
# the production secrets when DJANGO_SOURCE_ONLY=1 says so: the Makefile's
# `messages`/`messages-check` and CI's `makemigrations --check` set it.
SOURCE_ONLY = env.bool("DJANGO_SOURCE_ONLY", default=False)


def required(name: str) -> str:
    """Read a variable that must be set when debug is off (unless SOURCE_ONLY)."""
    value: str = env.str(name, default="").strip()
    if not value and not DEBUG and not SOURCE_ONLY:
        # One line, naming the variable: a bad deploy stops here.
        raise SystemExit(
            f"ImproperlyConfigured: {name} must be set when DJANGO_DEBUG is off "
            "(DJANGO_SOURCE_ONLY=1 for a command that only reads the source)."
        )
    return value
