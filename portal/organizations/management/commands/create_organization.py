import getpass
import os
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from portal.organizations.models import Membership, Organization


class Command(BaseCommand):
    help = "Create an organization and its first admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The organization's name.")
        parser.add_argument("--admin-email", required=True, help="The first admin's email.")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not prompt; read the password from DJANGO_SUPERUSER_PASSWORD.",
        )

    def handle(
        self, *args: Any, name: str, admin_email: str, interactive: bool, **options: Any
    ) -> None:
        name = name.strip()
        email = admin_email.strip().lower()
        if not name:
            raise CommandError("The organization name must not be empty.")
        # A CharField always has a max_length (the stubs allow None for other fields).
        if len(name) > Organization._meta.get_field("name").max_length:  # type: ignore[operator]
            raise CommandError("The organization name is too long (200 characters at most).")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{admin_email!r} is not a valid email address.") from None
        if Organization.objects.filter(name__iexact=name).exists():
            raise CommandError(f"An organization named {name!r} already exists.")

        User = get_user_model()
        user = User.objects.filter(email__iexact=email).first()
        password = None
        if user is None:
            password = self._password(interactive, User(username=email, email=email))

        try:
            with transaction.atomic():
                organization = Organization.objects.create(name=name)
                if user is None:
                    user = User.objects.create_user(username=email, email=email, password=password)
                    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
                Membership.objects.create(
                    organization=organization, user=user, role=Membership.Role.ADMIN
                )
        except IntegrityError:
            # Someone created the same organization or user since the checks above.
            raise CommandError(
                f"An organization named {name!r} or a user {email} was just created; try again."
            ) from None
        self.stdout.write(f"Created organization {name!r} with admin {email}.")

    def _password(self, interactive: bool, user: User) -> str:
        if not interactive:
            password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
            if not password:
                raise CommandError("Set DJANGO_SUPERUSER_PASSWORD when using --noinput.")
            self._validate(password, user)
            return password
        while True:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("Error: your passwords didn't match.")
                continue
            try:
                self._validate(password, user)
            except CommandError as error:
                self.stderr.write(f"Error: {error}")
                continue
            return password

    @staticmethod
    def _validate(password: str, user: User) -> None:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
