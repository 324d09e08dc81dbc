import fcntl
import json
from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Regenerate locale/fr/LC_MESSAGES/django.po from the source and fill it from the "
        "translation files locale/fr/source/*.json (msgid -> French; a list for plurals)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Exit 1 if anything is untranslated."
        )

    def handle(self, *args, check, **options):
        locale_dir = Path(settings.BASE_DIR) / "locale" / "fr"
        lock_path = locale_dir / ".lock"
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            call_command(
                "makemessages",
                locale=["fr"],
                no_obsolete=True,
                verbosity=0,
                ignore_patterns=[".venv/*", "staticfiles/*", "tests/*", "bench/*"],
            )
            known = {}
            for path in sorted((locale_dir / "source").glob("*.json")):
                known.update(json.loads(path.read_text(encoding="utf-8")))
            po_path = locale_dir / "LC_MESSAGES" / "django.po"
            po = polib.pofile(str(po_path))
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
            po.save(str(po_path))
        for msgid in missing:
            self.stdout.write(f"untranslated: {msgid!r}")
        self.stdout.write(f"{len(po) - len(missing)} translated, {len(missing)} untranslated")
        if check and missing:
            raise SystemExit(1)
