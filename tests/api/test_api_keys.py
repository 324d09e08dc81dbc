"""Settings › API keys: admins create (shown once) and revoke, members read; history; tenancy."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from integrations.models import HistoryEvent, OrganizationAPIKey

pytestmark = pytest.mark.django_db

LIST = reverse("integrations:api_key_list")
CREATE = reverse("integrations:api_key_create")


def revoke_url(api_key):
    return reverse("integrations:api_key_revoke", args=[api_key.prefix])


def test_admin_creates_a_key_shown_once_and_stored_hashed(admin_client, org_a):
    response = admin_client.post(CREATE, {"name": "Production backend"})
    assert response.status_code == HTTPStatus.OK
    key = response.context["new_key"]
    assert key in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    api_key = OrganizationAPIKey.objects.get(organization=org_a)
    assert api_key.name == "Production backend"
    assert key.startswith(api_key.prefix + ".")
    assert key not in api_key.hashed_key
    assert key not in api_key.pk
    assert api_key.is_valid(key)
    # Shown once: the list shows the prefix only.
    content = admin_client.get(LIST).content.decode()
    assert api_key.prefix in content
    assert key not in content
    assert api_key.hashed_key not in content
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.API_KEY_CREATED)
    assert event.actor == org_a.admin
    assert event.details == {"name": "Production backend", "prefix": api_key.prefix}


def test_name_is_required_and_bounded(admin_client):
    assert admin_client.post(CREATE, {"name": "  "}).status_code == HTTPStatus.SEE_OTHER
    assert admin_client.post(CREATE, {"name": "x" * 51}).status_code == HTTPStatus.SEE_OTHER
    assert not OrganizationAPIKey.objects.exists()


def test_admin_revokes_a_key_after_confirming(admin_client, org_a, make_api_key):
    api_key, key = make_api_key(org_a)
    confirm = admin_client.get(revoke_url(api_key))
    assert confirm.status_code == HTTPStatus.OK
    assert "cannot be undone" in confirm.content.decode()
    api_key.refresh_from_db()
    assert not api_key.revoked  # asking is not revoking
    response = admin_client.post(revoke_url(api_key))
    assert response.status_code == HTTPStatus.FOUND
    api_key.refresh_from_db()
    assert api_key.revoked
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.API_KEY_REVOKED)
    assert event.actor == org_a.admin
    assert event.details["prefix"] == api_key.prefix
    assert "Revoked" in admin_client.get(LIST).content.decode()
    # Revoking twice records nothing more.
    admin_client.post(revoke_url(api_key))
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.API_KEY_REVOKED).count() == 1


def test_members_read_the_list_but_cannot_create_or_revoke(member_client, org_a, make_api_key):
    api_key, _key = make_api_key(org_a, "Read by members")
    response = member_client.get(LIST)
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "Read by members" in content
    assert CREATE not in content
    assert revoke_url(api_key) not in content
    assert member_client.post(CREATE, {"name": "Nope"}).status_code == HTTPStatus.FORBIDDEN
    assert member_client.post(revoke_url(api_key)).status_code == HTTPStatus.FORBIDDEN
    assert member_client.get(revoke_url(api_key)).status_code == HTTPStatus.FORBIDDEN
    api_key.refresh_from_db()
    assert not api_key.revoked
    assert OrganizationAPIKey.objects.count() == 1


def test_another_organizations_key_is_neither_listed_nor_revocable(
    admin_client, org_b, make_api_key
):
    api_key, _key = make_api_key(org_b, "Beta's key")
    assert "Beta&#x27;s key" not in admin_client.get(LIST).content.decode()
    assert admin_client.post(revoke_url(api_key)).status_code == HTTPStatus.NOT_FOUND
    assert admin_client.get(revoke_url(api_key)).status_code == HTTPStatus.NOT_FOUND
    api_key.refresh_from_db()
    assert not api_key.revoked


def test_anonymous_is_sent_to_login(client):
    response = client.get(LIST)
    assert response.status_code == HTTPStatus.FOUND
    assert "/accounts/login/" in response["Location"]


def test_page_is_in_french(admin_client, org_a, make_api_key):
    make_api_key(org_a)
    content = admin_client.get(LIST, headers={"Accept-Language": "fr"}).content.decode()
    assert "Clés d’API" in content or "Clés d'API" in content


def test_admins_see_the_keys_history_members_do_not(client, org_a, make_api_key):
    api_key, _key = make_api_key(org_a, "Nightly sync")
    client.force_login(org_a.admin)
    client.post(revoke_url(api_key))
    history = client.get(LIST).context["history"]
    assert [e.kind for e in history] == [
        HistoryEvent.Kind.API_KEY_REVOKED,
        HistoryEvent.Kind.API_KEY_CREATED,
    ]
    page = client.get(LIST, headers={"Accept-Language": "fr"}).content.decode()
    assert "Clé d&#x27;API révoquée" in page or "Clé d'API révoquée" in page
    client.force_login(org_a.member)
    assert client.get(LIST).context["history"] is None
