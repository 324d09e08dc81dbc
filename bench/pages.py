"""The pages the bench measures, by label, with their paths (None: not built yet)."""

from django.urls import NoReverseMatch, reverse

# The first URL name that resolves wins, so the bench follows renames.
PAGES = [
    ("baseline", ["bench_baseline"]),
    ("accounting integrations", ["integrations:accounting_list"]),
    (
        "integration settings",
        ["integrations:integration_settings", "integrations:integration_settings"],
    ),
    ("companies list", ["integrations:company_list"]),
]


def _path(names: list[str]) -> str | None:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def listed() -> list[tuple[str, str | None]]:
    return [(label, _path(names)) for label, names in PAGES]
