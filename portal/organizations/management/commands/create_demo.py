import os
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from portal.organizations.models import Membership, Organization

DEMO_NAME = "Demo Ltd"
DEMO_EMAIL = "admin@demo.example"
DEMO_MEMBER_EMAIL = "member@demo.example"


class Command(BaseCommand):
    help = (
        "Create the demo organization, its admin and a member once (for `make run`); "
        "say how to log in."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "")
        if not password:
            raise CommandError("Set DEMO_ADMIN_PASSWORD (make run writes it into .env).")
        if not Organization.objects.filter(name=DEMO_NAME).exists():
            os.environ["DJANGO_SUPERUSER_PASSWORD"] = password
            call_command(
                "create_organization", DEMO_NAME, admin_email=DEMO_EMAIL, interactive=False
            )
        self._member(password)
        url = settings.PORTAL_BASE_URL
        admin, team = reverse("admin:index"), reverse("integrations:team")
        organizations = reverse("admin:portal_organization_changelist")
        self.stdout.write(
            f"\n  Portal:    {url}/\n"
            f"  Log in as: {DEMO_EMAIL} (admin) or {DEMO_MEMBER_EMAIL} (member, read-only)\n"
            f"  Password:  {password}   (both; DEMO_ADMIN_PASSWORD in .env)\n"
            "\n  Support staff use the admin: create an account with\n"
            "    .venv/bin/python manage.py createsuperuser\n"
            f"  and sign in with its email address at {url}{admin}\n"
            "  (staff set up an authenticator app at their first sign-in).\n"
            f"  More members: an admin invites them by email on Settings > Team ({url}{team}),\n"
            f"  or support, with Invite member on Demo Ltd's page ({url}{organizations}).\n"
            "\n  Sage sandbox is on: use any client ID and secret. The first secret it receives\n"
            "  with a client ID stays bound to that ID until the server restarts: to try\n"
            "  another secret, use another client ID (docs/sandbox.md).\n"
        )

    @staticmethod
    def _member(password: str) -> None:
        """The demo's read-only member, once."""
        organization = Organization.objects.get(name=DEMO_NAME)
        User = get_user_model()
        if User.objects.filter(email__iexact=DEMO_MEMBER_EMAIL).exists():
            return
        user = User.objects.create_user(
            username=DEMO_MEMBER_EMAIL, email=DEMO_MEMBER_EMAIL, password=password
        )
        EmailAddress.objects.create(user=user, email=DEMO_MEMBER_EMAIL, primary=True, verified=True)
        Membership.objects.create(organization=organization, user=user, role=Membership.Role.MEMBER)
