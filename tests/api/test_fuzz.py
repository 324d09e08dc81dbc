"""The REST API fuzzed from its own OpenAPI schema (schemathesis).

Every operation of /api/v1/schema/ is called with examples generated from the schema
(valid and invalid), with a real API key of a seeded organization whose Sage
integration is set up and one company linked at the sandbox (so the proxy answers).
Every answer must be no 5xx and conform to the schema: status code, content type and
body. Webhook endpoints reach out to nothing: every host name and address resolves to
a documentation address here, which the SSRF check refuses (at save and at send).
Deterministic (derandomized Hypothesis, no example database) and bounded:
FUZZ_EXAMPLES examples per operation (25 by default).
"""

import os
import socket
import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from integrations.webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def keep_connection():
    """Keep the test's database connection across the app's requests, as Django's test
    client does: the WSGI handler would close it at each request's end (on PostgreSQL,
    the connection holding the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(
    keep_connection,
    org_a,
    org_b,
    setup_sage,
    make_company,
    make_api_key,
    link,
    sage_sandbox,
    settings,
    make_endpoint,
    monkeypatch,
):
    """A key of an organization with companies, one linked at the sandbox, and webhook
    endpoints; the ids of its companies and of another organization's (which must stay
    out of reach), and the same of webhook endpoints and deliveries."""
    settings.API_THROTTLE_RATE = "100000/min"
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    monkeypatch.setattr(socket, "getaddrinfo", _nowhere(socket.getaddrinfo))
    setup_sage(org_a)
    linked = make_company(org_a, "Linked Ltd")
    link(sage_sandbox, linked)
    waiting = make_company(org_a, "Waiting Ltd")
    other = make_company(org_b, "Other Ltd")
    nowhere = other.pk + 1000
    ours, _ = make_endpoint(org_a, "https://hooks.example/in")
    theirs, _ = make_endpoint(org_b, "https://hooks.example/b")
    deliveries = [
        WebhookDelivery.objects.create(
            endpoint=endpoint, event_type="webhook.test", payload={}, state=state
        ).pk
        for endpoint, state in ((ours, "failed"), (ours, "pending"), (theirs, "failed"))
    ]
    webhooks = [ours.pk, theirs.pk, uuid.uuid4()]
    return (
        make_api_key(org_a)[1],
        [linked.pk, waiting.pk, other.pk, nowhere],
        webhooks,
        [*deliveries, uuid.uuid4()],
    )


def _nowhere(real):
    """getaddrinfo for the fuzz: loopback as it is (the sandbox), any other host or
    address a documentation one (192.0.2.1), which webhooks may not reach."""

    def resolve(host, port, *args, **kwargs):
        if host in ("127.0.0.1", "localhost", "::1"):
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", port))]

    return resolve


@pytest.fixture
def api(seeded):
    """The seeded key and ids; the test's database connection is kept across the app's
    requests, as Django's test client does (after the seeding: the client reconnects
    the handler when it is done). Otherwise the WSGI handler closes it at each
    request's end: on PostgreSQL, the connection holding the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield seeded
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _pick(generated: str, seeded: list) -> object:
    try:
        uuid.UUID(generated)
    except ValueError:
        return generated
    return seeded[len(generated) % len(seeded)] if generated[-1] in "02468ace" else generated


# Sage resources the sandbox serves, for some of the proxy's generated paths.
RESOURCES = ["ledger_accounts", "contacts", "businesses", "ledger_accounts/unknown-id"]


# Read from the app itself at collection (the schema view needs no database). Not
# schemathesis.pytest.from_fixture: its lazy loader breaks on pytest 9 (`node._nodeid`).
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_conforms_to_its_schema(case, api):
    key, ids, webhooks, deliveries = api
    parameters = case.path_parameters or {}
    generated = parameters.get("id")
    if isinstance(generated, str) and "/webhooks/" in case.path:
        # A webhook endpoint: ours, another organization's, or one that exists nowhere
        # (a generated string that is no UUID stays as it is: a 404).
        parameters["id"] = _pick(generated, webhooks)
        if isinstance(parameters.get("delivery_id"), str):
            parameters["delivery_id"] = _pick(parameters["delivery_id"], deliveries)
    if isinstance(generated, int) and generated >= 0:
        # Valid ids name a seeded company: the linked one (so the proxy reaches the
        # sandbox), one waiting, another organization's, or one that exists nowhere.
        parameters["id"] = ids[generated % len(ids)]
    path = parameters.get("path")
    if isinstance(path, str) and len(path) % 2 == 0:
        parameters["path"] = RESOURCES[len(path) // 2 % len(RESOURCES)]
    case.call_and_validate(headers={"Authorization": f"Api-Key {key}"}, checks=CHECKS)
