"""An https endpoint: the connection goes to the checked address, and the certificate must
match the URL's host name (sent as the TLS server name)."""

import datetime
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integrations.webhooks.delivery import webhook_attempt
from integrations.webhooks.models import WebhookDelivery
from integrations.webhooks.services import webhook_send_test

pytestmark = pytest.mark.django_db


def self_signed(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def tls_receiver(webhook_receiver, tmp_path):
    """The loopback receiver, behind TLS with a certificate for hooks.example."""
    cert, key = self_signed(tmp_path, "hooks.example")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server_names = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    server = webhook_receiver.server
    server.shutdown()  # serve again, now over TLS, on the same port
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    webhook_receiver.server_names = server_names
    webhook_receiver.cert = cert
    return webhook_receiver


@pytest.mark.parametrize(("trusted", "delivered"), [(True, True), (False, False)])
def test_https_to_the_checked_address_with_the_hosts_certificate(
    org_a, make_endpoint, tls_receiver, resolver, settings, tmp_path, trusted, delivered
):
    port = tls_receiver.server.server_address[1]
    resolver.names["hooks.example"] = ["127.0.0.1"]
    if trusted:
        settings.WEBHOOKS_CA_CERTS = tls_receiver.cert
    else:  # a certificate for another name, signed by the CA we trust
        settings.WEBHOOKS_CA_CERTS, _key = self_signed(tmp_path, "other.example")
    endpoint, _ = make_endpoint(org_a, f"https://hooks.example:{port}/in")
    delivery = webhook_send_test(endpoint=endpoint)

    state = webhook_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert tls_receiver.server_names == ["hooks.example"]
    if delivered:
        assert state == WebhookDelivery.State.DELIVERED
        (received,) = tls_receiver.requests
        assert received.headers["Host"] == f"hooks.example:{port}"
    else:
        assert state == WebhookDelivery.State.PENDING  # retried: a connection error
        assert delivery.last_error == "connection_error"
        assert tls_receiver.requests == []
