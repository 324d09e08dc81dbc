"""Add a webhook endpoint of an organization without a browser (deployments, CI).

The URL is checked as the Webhooks page checks it; the signing secret (`whsec_…`) is
printed once, alone on standard output, and stored encrypted.
"""

from django.core.management.base import BaseCommand, CommandError

from integrations.management.commands.create_api_key import organization_named
from integrations.webhooks.forms import WebhookEndpointForm
from integrations.webhooks.models import WebhookEvent
from integrations.webhooks.services import webhook_endpoint_create


class Command(BaseCommand):
    help = "Add a webhook endpoint of an organization and print its signing secret once."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="Its name, or its id.")
        parser.add_argument("--url", required=True, help="The https URL that receives events.")
        parser.add_argument(
            "--event",
            action="append",
            dest="events",
            choices=WebhookEvent.values,
            help="An event to send (repeat the option); default: all of them.",
        )
        parser.add_argument("--disabled", action="store_true", help="Add it disabled.")

    def handle(self, *args, **options):
        organization = organization_named(options["organization"])
        form = WebhookEndpointForm(
            data={
                "url": options["url"],
                "events": options["events"] or list(WebhookEvent.values),
                "enabled": not options["disabled"],
            }
        )
        if not form.is_valid():
            raise CommandError(
                "; ".join(
                    f"{field}: {' '.join(str(e) for e in errors)}"
                    for field, errors in form.errors.items()
                )
            )
        endpoint, secret = webhook_endpoint_create(
            organization=organization,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            enabled=form.cleaned_data["enabled"],
            actor=None,
        )
        self.stderr.write(
            f"Added webhook endpoint {endpoint.pk} ({endpoint.url}) of {organization.name}; "
            "its signing secret is printed below once."
        )
        self.stdout.write(secret)
