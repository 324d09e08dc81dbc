"""manage.py create_api_key and create_webhook_endpoint: set up without a browser."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integrations.models import HistoryEvent, OrganizationAPIKey, WebhookEndpoint

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_create_api_key_prints_a_working_key_once(org_a, api_client):
    key, note = run("create_api_key", "--organization", org_a.name, "--name", "CI")
    assert key not in note
    api_key = OrganizationAPIKey.objects.get(organization=org_a)
    assert key.startswith(api_key.prefix + ".")
    assert api_key.prefix in note
    assert api_client(key).get("/api/v1/companies").status_code == 200
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.API_KEY_CREATED).exists()


def test_create_api_key_refuses_an_unknown_organization_or_bad_name(org_a):
    with pytest.raises(CommandError):
        run("create_api_key", "--organization", "Nobody Ltd", "--name", "CI")
    with pytest.raises(CommandError):
        run("create_api_key", "--organization", str(org_a.pk), "--name", "x" * 51)
    assert not OrganizationAPIKey.objects.exists()


def test_create_webhook_endpoint_prints_its_secret_once(org_a, settings):
    secret, note = run(
        "create_webhook_endpoint",
        "--organization",
        org_a.name,
        "--url",
        "https://1.1.1.1/hooks",
        "--event",
        "connection.linked",
    )
    endpoint = WebhookEndpoint.objects.get(organization=org_a)
    assert secret.startswith("whsec_")
    assert secret not in note
    assert endpoint.signing_secret == secret
    assert endpoint.events == ["connection.linked"]
    assert endpoint.enabled


def test_create_webhook_endpoint_refuses_an_unsafe_url(org_a):
    with pytest.raises(CommandError, match="url"):
        run("create_webhook_endpoint", "--organization", org_a.name, "--url", "https://127.0.0.1/")
    assert not WebhookEndpoint.objects.exists()
