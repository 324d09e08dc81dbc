"""The bench's settings: production settings, with the bench's URLconf for the baseline view."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
