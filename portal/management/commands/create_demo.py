import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from portal.models import Organization

DEMO_NAME = "Demo Ltd"
DEMO_EMAIL = "admin@demo.example"


class Command(BaseCommand):
    help = "Create the demo organization and its admin once (for `make run`); say how to log in."

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "")
        if not password:
            raise CommandError("Set DEMO_ADMIN_PASSWORD (make run writes it into .env).")
        if not Organization.objects.filter(name=DEMO_NAME).exists():
            os.environ["DJANGO_SUPERUSER_PASSWORD"] = password
            call_command(
                "create_organization", DEMO_NAME, admin_email=DEMO_EMAIL, interactive=False
            )
        self.stdout.write(
            "\n  Portal:    http://127.0.0.1:8000/\n"
            f"  Log in as: {DEMO_EMAIL}\n"
            f"  Password:  {password}   (from DEMO_ADMIN_PASSWORD in .env)\n"
            "  Sage sandbox is on: any client ID and secret work for linking a company.\n"
        )
