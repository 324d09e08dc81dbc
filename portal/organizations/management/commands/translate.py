import contextlib
import fcntl
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

CATALOGUE = Path("locale") / "fr" / "LC_MESSAGES" / "django.po"
# What makemessages reads for the "django" domain, and what it must not walk.
SOURCE_SUFFIXES = {".py", ".html", ".txt"}
NOT_SOURCE = {"locale", "staticfiles", "tests", "bench", "node_modules"}


class Command(BaseCommand):
    help = (
        "Regenerate locale/fr/LC_MESSAGES/django.po from the source and fill it from the "
        "translation files locale/fr/source/*.json (msgid -> French; a list for plurals)."
    )
    # Like makemessages: no database, no secrets needed.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; exit 1 if anything is untranslated or if django.po is out of "
            "date with the source (its entries, not its source references or creation date).",
        )

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        base_dir = Path(settings.BASE_DIR)
        locale_dir = base_dir / "locale" / "fr"
        with open(locale_dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if check:
                # makemessages writes the catalogue of the tree it walks: walk a copy.
                with tempfile.TemporaryDirectory(prefix="translate-check-") as tmp:
                    copy = _source_copy(base_dir, Path(tmp))
                    po, missing = _regenerate(copy, locale_dir / "source")
                    stale = _entries(po) != _entries(polib.pofile(str(base_dir / CATALOGUE)))
            else:
                po, missing = _regenerate(base_dir, locale_dir / "source")
                po.save(str(base_dir / CATALOGUE))
        for msgid in missing:
            self.stdout.write(f"untranslated: {msgid!r}")
        self.stdout.write(f"{len(po) - len(missing)} translated, {len(missing)} untranslated")
        if check and stale:
            self.stderr.write(f"{CATALOGUE} is out of date with the source: run `make messages`.")
        if check and (missing or stale):
            sys.exit(1)


def _source_copy(base_dir: Path, target: Path) -> Path:
    """Copy the translatable source and the current catalogue of `base_dir` into `target`."""
    for entry in base_dir.iterdir():
        if entry.name.startswith(".") or entry.name in NOT_SOURCE or entry.is_symlink():
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, ignore=_not_source)
        elif entry.suffix in SOURCE_SUFFIXES:
            shutil.copy2(entry, target / entry.name)
    (target / CATALOGUE).parent.mkdir(parents=True)
    shutil.copy2(base_dir / CATALOGUE, target / CATALOGUE)
    return target


def _not_source(directory: str, names: list[str]) -> set[str]:
    """The names shutil.copytree leaves out: caches and files makemessages does not read."""
    ignored = set()
    for name in names:
        path = Path(directory) / name
        if name == "__pycache__" or (path.is_file() and path.suffix not in SOURCE_SUFFIXES):
            ignored.add(name)
    return ignored


def _regenerate(root: Path, sources: Path) -> tuple[polib.POFile, list[str]]:
    """Run makemessages over `root` and fill its catalogue from the JSON translations."""
    with contextlib.chdir(root):
        call_command(
            "makemessages",
            locale=["fr"],
            no_obsolete=True,
            verbosity=0,
            ignore_patterns=[".venv/*", "staticfiles/*", "tests/*", "bench/*"],
        )
    known = {}
    for path in sorted(sources.glob("*.json")):
        known.update(json.loads(path.read_text(encoding="utf-8")))
    po = polib.pofile(str(root / CATALOGUE))
    po.metadata["Language"] = "fr"
    po.metadata["Plural-Forms"] = "nplurals=2; plural=(n > 1);"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    missing = []
    for entry in po:
        value = known.get(entry.msgid)
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        if value is None:
            missing.append(entry.msgid)
            entry.msgstr = ""
            entry.msgstr_plural = {0: "", 1: ""} if entry.msgid_plural else {}
        elif entry.msgid_plural:
            forms = value if isinstance(value, list) else [value, value]
            entry.msgstr_plural = {0: forms[0], 1: forms[1]}
        else:
            entry.msgstr = value if isinstance(value, str) else value[0]
    return po, missing


def _entries(po: polib.POFile) -> tuple[object, ...]:
    """What the catalogue says, without its creation date and source references."""
    metadata = {k: v for k, v in po.metadata.items() if k != "POT-Creation-Date"}
    entries = sorted(
        (
            e.msgctxt or "",
            e.msgid,
            e.msgid_plural or "",
            e.msgstr,
            tuple(sorted(e.msgstr_plural.items())),
            tuple(sorted(e.flags)),
        )
        for e in po
        if not e.obsolete
    )
    return tuple(sorted(metadata.items())), tuple(entries)
