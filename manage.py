#!/usr/bin/env python
import os
import sys

# Commands that only read the models or the source, never serve a page nor touch a
# secret: the entry point says so to the settings (DJANGO_SOURCE_ONLY), so that they
# run in any clean checkout without the production secrets (`makemigrations --check`).
SOURCE_ONLY_COMMANDS = {"makemigrations", "makemessages", "compilemessages", "translate"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if len(sys.argv) > 1 and sys.argv[1] in SOURCE_ONLY_COMMANDS:
        os.environ.setdefault("DJANGO_SOURCE_ONLY", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
