"""Settings › Webhooks: admins manage, members read, other organizations see nothing."""

import logging
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from django.db import connection as db
from django.urls import reverse

from integrations.models import HistoryEvent
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks.services import webhook_endpoint_update, webhook_send_test

pytestmark = pytest.mark.django_db

EVENTS = ["company.created", "connection.linked"]


def add(client, url="http://127.0.0.1:9/hooks", events=EVENTS):
    return client.post(
        reverse("integrations:webhook_create"), {"url": url, "events": events, "enabled": "on"}
    )


@pytest.fixture
def loopback(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True


def test_the_secret_is_shown_once_and_stored_encrypted(admin_client, org_a, loopback, caplog):
    caplog.set_level(logging.DEBUG)
    response = add(admin_client)

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get()
    secret = endpoint.signing_secret
    assert secret.startswith("whsec_")
    assert secret in response.content.decode()
    assert endpoint.events == sorted(EVENTS)
    with db.cursor() as cursor:
        cursor.execute("SELECT signing_secret FROM integrations_webhookendpoint")
        (stored,) = cursor.fetchone()
    assert secret not in stored
    # Never again: not on the endpoint's page, the list, the history or the logs.
    for url in (
        reverse("integrations:webhook_detail", args=[endpoint.pk]),
        reverse("integrations:webhook_list"),
    ):
        assert secret not in admin_client.get(url).content.decode()
    assert secret[6:] not in caplog.text
    assert secret[6:] not in str(list(HistoryEvent.objects.values_list("details", flat=True)))
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.WEBHOOK_ENDPOINT_CREATED)
    assert event.actor == org_a.admin


def test_rotate_needs_confirmation_and_shows_the_new_secret_once(admin_client, org_a, loopback):
    add(admin_client)
    endpoint = WebhookEndpoint.objects.get()
    old = endpoint.signing_secret
    url = reverse("integrations:webhook_rotate", args=[endpoint.pk])

    assert admin_client.get(url).status_code == HTTPStatus.OK
    assert WebhookEndpoint.objects.get().signing_secret == old
    response = admin_client.post(url)
    new = WebhookEndpoint.objects.get().signing_secret
    assert new != old
    assert new in response.content.decode()
    assert old not in response.content.decode()
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.WEBHOOK_SECRET_ROTATED).exists()


def test_edit_then_delete(admin_client, org_a, loopback):
    add(admin_client)
    endpoint = WebhookEndpoint.objects.get()
    detail = reverse("integrations:webhook_detail", args=[endpoint.pk])
    response = admin_client.post(detail, {"url": endpoint.url, "events": ["link.failed"]})
    assert response.status_code == HTTPStatus.FOUND
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.enabled) == (["link.failed"], False)
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.WEBHOOK_ENDPOINT_UPDATED)
    assert event.details["changed"] == ["enabled", "events"]

    response = admin_client.post(detail, {"url": endpoint.url, "events": []}, follow=True)
    assert response.redirect_chain == [(detail, HTTPStatus.SEE_OTHER)]
    assert b"Choose at least one event." in response.content
    assert WebhookEndpoint.objects.get().events == ["link.failed"]

    delete = reverse("integrations:webhook_delete", args=[endpoint.pk])
    assert admin_client.get(delete).status_code == HTTPStatus.OK
    assert admin_client.post(delete).status_code == HTTPStatus.FOUND
    assert not WebhookEndpoint.objects.exists()
    page = admin_client.get(reverse("integrations:webhook_list")).content.decode()
    history = page.split('data-testid="webhook-history"')[1]
    assert history.count('<span class="webhook-url">http://127.0.0.1:9/hooks</span>') == 3


def test_members_see_but_cannot_manage(client, org_a, make_endpoint, loopback):
    endpoint, secret = make_endpoint(org_a, "http://127.0.0.1:9/hooks")
    delivery = webhook_send_test(endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=WebhookDelivery.State.FAILED)
    client.force_login(org_a.member)

    listing = client.get(reverse("integrations:webhook_list"))
    assert listing.status_code == HTTPStatus.OK
    assert endpoint.url in listing.content.decode()
    assert reverse("integrations:webhook_create").encode() not in listing.content
    detail = client.get(reverse("integrations:webhook_detail", args=[endpoint.pk]))
    assert detail.status_code == HTTPStatus.OK
    html = detail.content.decode()
    assert delivery.message_id in html
    assert "Resend" not in html
    assert "Rotate secret" not in html
    assert secret not in html

    refused = [
        ("post", reverse("integrations:webhook_create"), {"url": endpoint.url, "events": EVENTS}),
        ("get", reverse("integrations:webhook_create"), None),
        ("post", reverse("integrations:webhook_detail", args=[endpoint.pk]), {"url": "x"}),
        ("post", reverse("integrations:webhook_rotate", args=[endpoint.pk]), None),
        ("post", reverse("integrations:webhook_delete", args=[endpoint.pk]), None),
        ("post", reverse("integrations:webhook_test", args=[endpoint.pk]), None),
        (
            "post",
            reverse("integrations:webhook_resend", args=[endpoint.pk, delivery.pk]),
            None,
        ),
    ]
    for method, url, data in refused:
        assert getattr(client, method)(url, data).status_code == HTTPStatus.FORBIDDEN, url
    assert WebhookEndpoint.objects.get().signing_secret == secret
    assert WebhookDelivery.objects.count() == 1


def test_another_organization_sees_nothing(client, org_a, org_b, make_endpoint, loopback):
    endpoint, _ = make_endpoint(org_a, "http://127.0.0.1:9/hooks")
    delivery = webhook_send_test(endpoint=endpoint)
    client.force_login(org_b.admin)

    assert endpoint.url not in client.get(reverse("integrations:webhook_list")).content.decode()
    urls = [
        ("get", reverse("integrations:webhook_detail", args=[endpoint.pk])),
        ("post", reverse("integrations:webhook_detail", args=[endpoint.pk])),
        ("post", reverse("integrations:webhook_rotate", args=[endpoint.pk])),
        ("post", reverse("integrations:webhook_delete", args=[endpoint.pk])),
        ("post", reverse("integrations:webhook_test", args=[endpoint.pk])),
        ("post", reverse("integrations:webhook_resend", args=[endpoint.pk, delivery.pk])),
    ]
    for method, url in urls:
        assert getattr(client, method)(url).status_code == HTTPStatus.NOT_FOUND, url
    # A delivery of org_a's endpoint cannot be reached through org_b's own endpoint either.
    own, _ = make_endpoint(org_b, "http://127.0.0.1:9/b")
    resend = reverse("integrations:webhook_resend", args=[own.pk, delivery.pk])
    assert client.post(resend).status_code == HTTPStatus.NOT_FOUND
    assert WebhookEndpoint.objects.for_org(org_a).count() == 1
    assert WebhookDelivery.objects.get().attempts == 0


def test_send_test_and_resend_from_the_page(
    admin_client, org_a, make_endpoint, webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint, _ = make_endpoint(org_a, webhook_receiver.url)
    webhook_receiver.answer(500)
    detail = reverse("integrations:webhook_detail", args=[endpoint.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("integrations:webhook_test", args=[endpoint.pk]))
    assert response["Location"] == detail
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event_type, delivery.last_status) == ("webhook.test", 500)
    html = admin_client.get(detail).content.decode()
    assert "webhook.test" in html
    assert "Next retry" in html

    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=WebhookDelivery.State.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("integrations:webhook_resend", args=[endpoint.pk, delivery.pk]))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 2, 200)
    ids = {r.headers["webhook-id"] for r in webhook_receiver.requests}
    assert ids == {delivery.message_id}


def test_the_navigation_has_webhooks(admin_client):
    html = admin_client.get(reverse("integrations:webhook_list")).content.decode()
    assert '<a href="/settings/webhooks/" aria-current="page">Webhooks</a>' in html


def test_the_admin_lists_endpoints_and_deliveries_without_the_secret(
    client, org_a, make_endpoint, make_user
):
    endpoint, secret = make_endpoint(org_a, "https://hooks.example.com/in")
    delivery = webhook_send_test(endpoint=endpoint)
    staff = make_user("support@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    client.force_login(staff)
    history = HistoryEvent.objects.filter(kind__startswith="webhook_")
    webhook_endpoint_update(
        endpoint=endpoint, url=endpoint.url, events=[], enabled=False, actor=None
    )
    for url in (
        *(reverse("admin:integrations_historyevent_change", args=[e.pk]) for e in history),
        reverse("admin:integrations_webhookendpoint_changelist"),
        reverse("admin:integrations_webhookendpoint_change", args=[endpoint.pk]),
        reverse("admin:integrations_webhookdelivery_changelist"),
        reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk]),
    ):
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        assert secret[6:] not in response.content.decode()
    assert (
        endpoint.url in response.content.decode()
        or delivery.message_id in response.content.decode()
    )


# Webhook words (issue 21 item 9).


def test_a_retry_says_which_attempt_and_a_refused_connection_says_so_in_words(
    admin_client, org_a, make_endpoint, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True
    endpoint, _ = make_endpoint(org_a, "http://127.0.0.1:9/hooks")  # nothing listens on 9
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("integrations:webhook_test", args=[endpoint.pk]))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_error) == ("pending", "connection_error")
    total = len(settings.WEBHOOKS_RETRY_DELAYS) + 1
    html = admin_client.get(reverse("integrations:webhook_detail", args=[endpoint.pk])).content
    page = html.decode()
    assert f"Retrying (attempt 2 of {total})" in page
    assert "Could not connect" in page
    assert "connection_error" not in page
    french = admin_client.get(
        reverse("integrations:webhook_detail", args=[endpoint.pk]),
        headers={"accept-language": "fr"},
    ).content.decode()
    assert "Connexion impossible" in french
    assert f"Nouvel essai (tentative 2 sur {total})" in french


def test_the_failing_badge_uses_the_portals_date_format(admin_client, org_a, make_endpoint):
    endpoint, _ = make_endpoint(org_a, "https://hooks.example/in")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=datetime(2026, 11, 30, 17, 14, tzinfo=UTC)
    )
    page = admin_client.get(reverse("integrations:webhook_list")).content.decode()
    assert "Failing since <time" in page
    assert "30 Nov 2026, 17:14" in page
