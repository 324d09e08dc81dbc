"""Create an API key of an organization without a browser (deployments, CI).

The key is printed once, alone on standard output, so that a script can capture it;
it is stored only as a hash. `--organization` is the organization's name or id.
"""

from django.core.management.base import BaseCommand, CommandError

from integrations.api_keys.forms import ApiKeyForm
from integrations.api_keys.services import api_key_create
from portal.organizations.models import Organization


def organization_named(value: str) -> Organization:
    """The organization with this name, or this id."""
    found = Organization.objects.filter(name=value).first()
    if found is None and value.isdigit():
        found = Organization.objects.filter(pk=int(value)).first()
    if found is None:
        raise CommandError(f"No organization named {value!r}.")
    return found


class Command(BaseCommand):
    help = "Create an API key of an organization and print it once (stored only as a hash)."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="Its name, or its id.")
        parser.add_argument("--name", required=True, help="What the key is for.")

    def handle(self, *args, **options):
        organization = organization_named(options["organization"])
        form = ApiKeyForm(data={"name": options["name"]})
        if not form.is_valid():
            raise CommandError("; ".join(str(e) for e in form.errors["name"]))
        api_key, key = api_key_create(
            organization=organization, name=form.cleaned_data["name"], actor=None
        )
        self.stderr.write(
            f"Created API key {api_key.prefix} ({api_key.name}) of {organization.name}; "
            "it is printed below once and cannot be shown again."
        )
        self.stdout.write(key)
