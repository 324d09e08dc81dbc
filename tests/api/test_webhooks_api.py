"""The webhooks API (endpoints, delivery log, resend) and the events feed.

Two organizations with a key each: another organization's endpoint, delivery or
event is out of reach. Deliveries go to a real receiver on loopback.
"""

from http import HTTPStatus

import pytest
from standardwebhooks.webhooks import Webhook

from integrations.companies.services import company_create, company_delete, company_update
from integrations.models import HistoryEvent
from integrations.webhooks.delivery import webhook_attempt
from integrations.webhooks.models import PlatformEvent, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

WEBHOOKS = "/api/v1/webhooks"
EVENTS = "/api/v1/events"


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def test_create_shows_the_secret_once_then_never(api_a, org_a, webhook_receiver):
    response = post(api_a, WEBHOOKS, {"url": webhook_receiver.url, "events": ["company.created"]})
    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert response["Location"].endswith(f"{WEBHOOKS}/{endpoint.pk}")
    assert endpoint.organization == org_a
    assert (body["url"], body["events"], body["enabled"]) == (
        webhook_receiver.url,
        ["company.created"],
        True,
    )
    assert body["signing_secret"] == endpoint.signing_secret
    assert body["signing_secret"].startswith("whsec_")

    read = api_a.get(f"{WEBHOOKS}/{endpoint.pk}")
    listed = api_a.get(WEBHOOKS).json()["results"]
    assert "signing_secret" not in read.json()
    assert [e["id"] for e in listed] == [str(endpoint.pk)]
    assert endpoint.signing_secret not in read.content.decode() + str(listed)
    # The history names the key, as for every change made through the API.
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.WEBHOOK_ENDPOINT_CREATED)
    assert event.details["api_key"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "https://192.168.0.10/hooks", "events": ["company.created"]}, "url"),
        ({"url": "https://[64:ff9b::7f00:1]/hooks", "events": ["company.created"]}, "url"),
        ({"url": "ftp://hooks.example/", "events": ["company.created"]}, "url"),
        ({"url": "not a url", "events": ["company.created"]}, "url"),
        ({"url": "https://8.8.8.8/", "events": []}, "events"),
        ({"url": "https://8.8.8.8/", "events": ["no.such.event"]}, "events.0"),
        ({"url": "https://8.8.8.8/", "events": "company.created"}, "events"),
    ],
)
def test_bad_endpoints_are_refused_and_nothing_is_made(api_a, data, field, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    response = post(api_a, WEBHOOKS, data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not WebhookEndpoint.objects.exists()


def test_a_private_address_is_refused_in_the_words_of_the_page(api_a, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    response = post(api_a, WEBHOOKS, {"url": "https://10.1.2.3/", "events": ["link.failed"]})
    (error,) = response.json()["errors"]
    assert "private, loopback, link-local or reserved" in error["detail"]


def test_change_rotate_and_delete(api_a, org_a, make_endpoint, webhook_receiver):
    endpoint, old_secret = make_endpoint(org_a, webhook_receiver.url, events=["link.failed"])
    url = f"{WEBHOOKS}/{endpoint.pk}"

    changed = patch(api_a, url, {"events": ["company.deleted", "company.created"]})
    assert changed.status_code == HTTPStatus.OK
    assert changed.json()["events"] == ["company.created", "company.deleted"]
    assert changed.json()["url"] == webhook_receiver.url  # unchanged when not sent
    disabled = patch(api_a, url, {"enabled": False})
    assert disabled.json()["enabled"] is False

    rotated = post(api_a, f"{url}/rotate-secret")
    assert rotated.status_code == HTTPStatus.OK
    secret = rotated.json()["signing_secret"]
    endpoint.refresh_from_db()
    assert secret == endpoint.signing_secret != old_secret

    assert api_a.delete(url).status_code == HTTPStatus.NO_CONTENT
    assert not WebhookEndpoint.objects.exists()
    assert api_a.get(url).status_code == HTTPStatus.NOT_FOUND
    kinds = set(HistoryEvent.objects.values_list("kind", flat=True))
    assert {
        HistoryEvent.Kind.WEBHOOK_ENDPOINT_UPDATED,
        HistoryEvent.Kind.WEBHOOK_SECRET_ROTATED,
        HistoryEvent.Kind.WEBHOOK_ENDPOINT_DELETED,
    } <= kinds


def test_test_event_its_delivery_log_and_resend(
    api_a, org_a, make_endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint, secret = make_endpoint(org_a, webhook_receiver.url)
    url = f"{WEBHOOKS}/{endpoint.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        sent = post(api_a, f"{url}/test")
    assert sent.status_code == HTTPStatus.ACCEPTED
    (received,) = webhook_receiver.requests
    assert Webhook(secret).verify(received.body, received.headers)["type"] == "webhook.test"

    log = api_a.get(f"{url}/deliveries").json()
    (delivery,) = log["results"]
    assert delivery["id"] == sent.json()["id"]
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == (
        "delivered",
        1,
        200,
    )
    assert delivery["message_id"] == received.headers["webhook-id"]

    with django_capture_on_commit_callbacks(execute=True):
        resent = post(api_a, f"{url}/deliveries/{delivery['id']}/resend")
    assert resent.status_code == HTTPStatus.ACCEPTED
    assert [r.headers["webhook-id"] for r in webhook_receiver.requests] == [
        delivery["message_id"]
    ] * 2


def test_resend_of_a_pending_delivery_and_a_disabled_endpoint_is_a_conflict(
    api_a, org_a, make_endpoint, webhook_receiver
):
    endpoint, _ = make_endpoint(org_a, webhook_receiver.url)
    url = f"{WEBHOOKS}/{endpoint.pk}"
    pending = post(api_a, f"{url}/test").json()  # not committed: it stays pending
    resend = post(api_a, f"{url}/deliveries/{pending['id']}/resend")
    assert resend.status_code == HTTPStatus.CONFLICT
    assert resend.json()["code"] == "delivery_pending"

    patch(api_a, url, {"enabled": False})
    WebhookDelivery.objects.update(state=WebhookDelivery.State.FAILED)
    assert post(api_a, f"{url}/test").json()["code"] == "endpoint_disabled"
    resend = post(api_a, f"{url}/deliveries/{pending['id']}/resend")
    assert resend.status_code == HTTPStatus.CONFLICT
    assert resend.json()["code"] == "endpoint_disabled"
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.FAILED


def test_the_delivery_log_pages(api_a, org_a, make_endpoint, webhook_receiver):
    endpoint, _ = make_endpoint(org_a, webhook_receiver.url)
    url = f"{WEBHOOKS}/{endpoint.pk}/deliveries"
    made = [post(api_a, f"{WEBHOOKS}/{endpoint.pk}/test").json()["id"] for _ in range(5)]
    first = api_a.get(url, {"limit": 2}).json()
    second = api_a.get(first["next"]).json()
    third = api_a.get(second["next"]).json()
    seen = [d["id"] for page in (first, second, third) for d in page["results"]]
    assert seen == made[::-1]
    assert third["next"] is None


def test_another_organizations_endpoints_and_deliveries_are_out_of_reach(
    api_b, org_a, make_endpoint, webhook_receiver
):
    endpoint, _ = make_endpoint(org_a, webhook_receiver.url)
    url = f"{WEBHOOKS}/{endpoint.pk}"
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="webhook.test", payload={}, state="failed"
    )
    assert api_b.get(WEBHOOKS).json()["results"] == []
    for response in (
        api_b.get(url),
        patch(api_b, url, {"enabled": False}),
        api_b.delete(url),
        post(api_b, f"{url}/rotate-secret"),
        post(api_b, f"{url}/test"),
        api_b.get(f"{url}/deliveries"),
        post(api_b, f"{url}/deliveries/{delivery.pk}/resend"),
    ):
        assert response.status_code == HTTPStatus.NOT_FOUND
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert WebhookDelivery.objects.count() == 1


def test_the_events_feed_catches_up_with_the_payloads_webhooks_carry(
    api_a, api_b, org_a, make_endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    _endpoint, secret = make_endpoint(org_a, webhook_receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        acme = company_create(organization=org_a, name="Acme", actor=None)
        other = company_create(organization=org_a, name="Other", actor=None)
        company_update(company=acme, name="Acme Bakery", actor=None)
        acme_id = acme.pk
        company_delete(company=acme, actor=None)

    first = api_a.get(EVENTS, {"limit": 2}).json()
    rest = api_a.get(first["next"]).json()
    feed = first["results"] + rest["results"]
    delivered = [Webhook(secret).verify(r.body, r.headers) for r in webhook_receiver.requests]
    assert feed == delivered
    assert [(e["type"], e["data"]["company"]["id"], e["sequence"]) for e in feed] == [
        ("company.created", acme_id, 1),
        ("company.created", other.pk, 1),
        ("company.deleted", acme_id, 2),
    ]
    assert feed[2]["data"]["company"]["name"] == "Acme Bakery"

    only = api_a.get(EVENTS, {"type": "company.deleted"}).json()["results"]
    assert [e["type"] for e in only] == ["company.deleted"]
    of_other = api_a.get(EVENTS, {"company": other.pk}).json()["results"]
    assert [e["data"]["company"]["id"] for e in of_other] == [other.pk]
    assert api_b.get(EVENTS).json()["results"] == []


def test_the_feed_has_every_event_even_without_endpoints(api_a, org_a):
    company_create(organization=org_a, name="Acme", actor=None)
    (event,) = api_a.get(EVENTS).json()["results"]
    assert event["type"] == "company.created"
    assert PlatformEvent.objects.count() == 1


@pytest.mark.parametrize(
    "query", [{"type": "nope"}, {"company": "x"}, {"company": 0}, {"limit": "abc"}]
)
def test_bad_feed_filters_are_refused(api_a, query):
    response = api_a.get(EVENTS, query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert [e["field"] for e in response.json()["errors"]] == list(query)


def test_a_delivery_made_for_a_disabled_endpoint_is_not_sent(
    api_a, org_a, make_endpoint, webhook_receiver
):
    """The API's disable is the page's: what is pending gives up without an attempt."""
    endpoint, _ = make_endpoint(org_a, webhook_receiver.url)
    delivery = post(api_a, f"{WEBHOOKS}/{endpoint.pk}/test").json()
    patch(api_a, f"{WEBHOOKS}/{endpoint.pk}", {"enabled": False})
    assert webhook_attempt(delivery_id=delivery["id"]) == WebhookDelivery.State.FAILED
    assert webhook_receiver.requests == []
