"""No SSRF: where a webhook may go, checked at save and again, after resolving, at send time."""

import ipaddress
from http import HTTPStatus

import pytest
from django.urls import reverse

from integrations.webhooks.delivery import webhook_attempt
from integrations.webhooks.http import Refusal, UnsafeUrl, address_allowed, embedded_ipv4, resolve
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks.services import webhook_send_test

PUBLIC = "93.184.215.14"


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hooks",
        "https://172.16.5.4/",
        "https://192.168.1.5/",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
        "https://127.0.0.1/",
        "https://2130706433/",  # 127.0.0.1 written as a number
        "https://0.0.0.0/",
        "https://100.64.0.1/",  # shared address space
        "https://192.0.2.1/",  # documentation
        "https://224.0.0.1/",  # multicast
        "https://[::1]/",
        "https://[fd00::1]/",
        "https://[fe80::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://localhost/",
    ],
)
def test_private_loopback_and_reserved_addresses_are_refused(url):
    with pytest.raises(UnsafeUrl) as refused:
        resolve(url, allow_loopback_http=False)
    assert refused.value.refusal == Refusal.FORBIDDEN_ADDRESS


def test_a_name_resolving_to_loopback_is_refused(resolver):
    resolver.names["hooks.example"] = ["127.0.0.1"]
    with pytest.raises(UnsafeUrl) as refused:
        resolve("https://hooks.example/in", allow_loopback_http=False)
    assert refused.value.refusal == Refusal.FORBIDDEN_ADDRESS


def test_one_private_address_among_public_ones_is_refused(resolver):
    resolver.names["hooks.example"] = [PUBLIC, "10.1.2.3"]
    with pytest.raises(UnsafeUrl):
        resolve("https://hooks.example/in", allow_loopback_http=False)


def test_a_public_name_is_checked_and_pinned(resolver):
    resolver.names["hooks.example"] = [PUBLIC]
    target = resolve("https://Hooks.Example:8443/in?x=1", allow_loopback_http=False)
    assert (target.address, target.host, target.port, target.path) == (
        PUBLIC,
        "hooks.example",
        8443,
        "/in?x=1",
    )
    assert target.host_header == "hooks.example:8443"


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("http://hooks.example/in", Refusal.NOT_HTTPS),
        ("ftp://hooks.example/in", Refusal.NOT_HTTPS),
        ("https://user:pw@hooks.example/in", Refusal.CREDENTIALS),
        ("https:///in", Refusal.NO_HOST),
        ("https://hooks.example:99999/", Refusal.NO_HOST),
        ("https://no-such-host.invalid/", Refusal.UNRESOLVABLE),
    ],
)
def test_other_refusals(resolver, url, refusal):
    resolver.names["hooks.example"] = [PUBLIC]
    with pytest.raises(UnsafeUrl) as refused:
        resolve(url, allow_loopback_http=True)
    assert refused.value.refusal == refusal


def test_the_setting_allows_http_on_loopback_only():
    assert resolve("http://127.0.0.1:9/x", allow_loopback_http=True).address == "127.0.0.1"
    with pytest.raises(UnsafeUrl):
        resolve("http://127.0.0.1:9/x", allow_loopback_http=False)
    with pytest.raises(UnsafeUrl):
        resolve("http://10.0.0.1/x", allow_loopback_http=True)


@pytest.mark.django_db
def test_a_private_url_is_refused_at_save(admin_client, org_a):
    response = admin_client.post(
        reverse("integrations:webhook_create"),
        {"url": "https://192.168.0.10/hooks", "events": ["company.created"], "enabled": "on"},
        follow=True,
    )
    assert response.redirect_chain[0][1] == HTTPStatus.SEE_OTHER
    assert b"private, loopback, link-local or reserved" in response.content
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_http_is_refused_at_save_outside_the_loopback_setting(admin_client, org_a, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    response = admin_client.post(
        reverse("integrations:webhook_create"),
        {"url": "http://127.0.0.1:8000/hooks", "events": ["company.created"]},
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_the_address_checked_is_the_one_connected_to(
    org_a, make_endpoint, webhook_receiver, resolver
):
    port = webhook_receiver.server.server_address[1]
    resolver.names["hooks.example"] = ["127.0.0.1"]
    endpoint, _ = make_endpoint(org_a, f"http://hooks.example:{port}/in")
    delivery = webhook_send_test(endpoint=endpoint)
    resolver.asked.clear()

    assert webhook_attempt(delivery_id=delivery.pk) == WebhookDelivery.State.DELIVERED
    (received,) = webhook_receiver.requests
    assert received.headers["Host"] == f"hooks.example:{port}"
    assert received.path == "/in"
    # Resolved once, by the check: the connection went to that address, not to a new answer.
    assert resolver.asked.count("hooks.example") == 1


@pytest.mark.django_db
def test_a_name_that_resolves_to_loopback_at_send_time_is_refused(
    org_a, make_endpoint, webhook_receiver, resolver, settings
):
    port = webhook_receiver.server.server_address[1]
    resolver.names["hooks.example"] = [PUBLIC]
    endpoint, _ = make_endpoint(org_a, f"https://hooks.example:{port}/in")  # saved: public
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    resolver.names["hooks.example"] = ["127.0.0.1"]  # DNS rebinding after the save
    delivery = webhook_send_test(endpoint=endpoint)

    assert webhook_attempt(delivery_id=delivery.pk) == WebhookDelivery.State.FAILED
    delivery.refresh_from_db()
    assert delivery.last_error == "forbidden_address"
    assert delivery.last_status is None
    assert webhook_receiver.requests == []


@pytest.mark.django_db
def test_a_redirect_is_not_followed(org_a, make_endpoint, webhook_receiver):
    endpoint, _ = make_endpoint(org_a, webhook_receiver.url)
    for location in (webhook_receiver.url + "/elsewhere", "http://10.0.0.1/"):
        webhook_receiver.answer(307, headers={"Location": location})
        delivery = webhook_send_test(endpoint=endpoint)
        assert webhook_attempt(delivery_id=delivery.pk) == WebhookDelivery.State.FAILED
    assert [r.path for r in webhook_receiver.requests] == ["/hooks", "/hooks"]


@pytest.mark.django_db
def test_check_deploy_fails_while_loopback_webhooks_are_allowed(settings):
    from django.core.checks import run_checks

    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True
    assert "portal.E004" in {e.id for e in run_checks(include_deployment_checks=True)}
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    assert "portal.E004" not in {e.id for e in run_checks(include_deployment_checks=True)}


# IPv4 carried inside IPv6: the IPv4 address is checked as any other.
@pytest.mark.parametrize(
    ("address", "carried"),
    [
        ("64:ff9b::7f00:1", ["127.0.0.1"]),  # NAT64, well-known prefix
        ("64:ff9b::a00:1", ["10.0.0.1"]),
        ("2002:7f00:1::1", ["127.0.0.1"]),  # 6to4
        ("2002:a9fe:a9fe::", ["169.254.169.254"]),
        # Teredo: the server, then the client (its bits inverted).
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", ["65.54.227.120", "127.0.0.1"]),
        ("::ffff:127.0.0.1", ["127.0.0.1"]),  # IPv4-mapped
        ("::7f00:1", ["127.0.0.1"]),  # IPv4-compatible
        ("::808:808", ["8.8.8.8"]),
        ("::2", ["0.0.0.2"]),  # the first IPv4-compatible address
        ("::1", []),  # IPv6's own loopback, not an IPv4-compatible address
        ("::", []),
        ("2606:4700::6810:84e5", []),
    ],
)
def test_the_ipv4_carried_inside_ipv6_is_found(address, carried):
    assert [str(a) for a in embedded_ipv4(ipaddress.IPv6Address(address))] == carried


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::c0a8:1",
        "64:ff9b:1::808:808",  # local-use NAT64: refused whole
        "64:ff9b:1:ffff::7f00:1",
        "2002:7f00:1::1",
        "2002:808:808::1",  # 6to4 of a public address: 2002::/16 is not global
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo to 127.0.0.1
        "2001:0:808:808:8000:63bf:f7f7:f7f7",  # Teredo between public addresses
        "::7f00:1",
        "::a00:1",
        "::2",
        "::ffff:10.0.0.1",
        "::ffff:127.0.0.1",
    ],
)
def test_ipv6_carrying_a_forbidden_ipv4_is_refused(address):
    assert not address_allowed(ipaddress.IPv6Address(address), allow_loopback=False)


def test_the_loopback_setting_does_not_reach_into_ipv6():
    """Loopback is allowed for tests and `make run`: the host's own (127/8, ::1, and
    ::ffff:127.0.0.1, which is 127.0.0.1), never one reached through a NAT64 gateway."""
    allowed = [
        a
        for a in ("::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "::7f00:1")
        if address_allowed(ipaddress.ip_address(a), allow_loopback=True)
    ]
    assert allowed == ["::1", "::ffff:127.0.0.1"]


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::808:808", "64:ff9b::5db8:d70e", "::ffff:8.8.8.8", "::808:808", "2606:4700::1"],
)
def test_ipv6_carrying_a_public_ipv4_is_allowed(address):
    assert address_allowed(ipaddress.IPv6Address(address), allow_loopback=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://[64:ff9b::7f00:1]/",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "https://[2002:7f00:1::]/",
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
        "https://[::7f00:1]/",
        "https://[::ffff:a00:1]/",
    ],
)
def test_urls_with_ipv4_inside_ipv6_are_refused(url):
    with pytest.raises(UnsafeUrl) as refused:
        resolve(url, allow_loopback_http=True)
    assert refused.value.refusal == Refusal.FORBIDDEN_ADDRESS


def test_a_name_resolving_to_nat64_of_loopback_is_refused(resolver):
    resolver.names["hooks.example"] = ["64:ff9b::7f00:1"]
    with pytest.raises(UnsafeUrl) as refused:
        resolve("https://hooks.example/in", allow_loopback_http=False)
    assert refused.value.refusal == Refusal.FORBIDDEN_ADDRESS


def test_the_default_port_follows_the_scheme(resolver):
    resolver.names["hooks.example"] = [PUBLIC]
    assert resolve("https://hooks.example/in", allow_loopback_http=False).port == 443
    assert resolve("http://127.0.0.1/in", allow_loopback_http=True).port == 80


def test_a_user_name_alone_is_refused(resolver):
    resolver.names["hooks.example"] = [PUBLIC]
    with pytest.raises(UnsafeUrl) as refused:
        resolve("https://user@hooks.example/in", allow_loopback_http=False)
    assert refused.value.refusal == Refusal.CREDENTIALS


def test_a_scoped_link_local_address_is_refused_as_such(resolver):
    resolver.names["hooks.example"] = ["fe80::1%2"]
    with pytest.raises(UnsafeUrl) as refused:
        resolve("https://hooks.example/in", allow_loopback_http=False)
    assert refused.value.refusal == Refusal.FORBIDDEN_ADDRESS


def test_the_first_address_is_the_one_connected_to(resolver):
    resolver.names["hooks.example"] = [PUBLIC, "93.184.215.15"]
    assert resolve("https://hooks.example/in", allow_loopback_http=False).address == PUBLIC
