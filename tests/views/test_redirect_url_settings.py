"""Settings › Sage: the integration's redirect URL, set by admins only, with history."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from integrations.models import HistoryEvent, Integration

pytestmark = pytest.mark.django_db

SETTINGS_URL = reverse("integrations:integration_settings")
SAVE_URL = reverse("integrations:integration_redirect_url")
URL = "https://app.example.com/sage?company={companyId}&status={status}"


@pytest.fixture
def integration(org_a, setup_sage):
    return setup_sage(org_a, enable=False)[0]


def stored(integration) -> str:
    return Integration.objects.get(pk=integration.pk).redirect_url


def test_an_admin_sets_the_redirect_url(admin_client, org_a, integration):
    page = admin_client.get(SETTINGS_URL)
    assert b'action="' + SAVE_URL.encode() in page.content

    response = admin_client.post(SAVE_URL, {"redirect_url": f"  {URL} "})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == SETTINGS_URL + "#redirect-url"
    assert stored(integration) == URL
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.REDIRECT_URL_CHANGED)
    assert event.actor == org_a.admin
    assert event.integration == integration
    assert event.details == {"redirect_url": URL}
    page = admin_client.get(SETTINGS_URL)
    assert b"Redirect URL saved." in page.content
    assert b"company={companyId}&amp;status={status}" in page.content


def test_saving_the_same_url_records_nothing(admin_client, integration):
    admin_client.post(SAVE_URL, {"redirect_url": URL})
    admin_client.post(SAVE_URL, {"redirect_url": URL})
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.REDIRECT_URL_CHANGED).count() == 1


def test_an_empty_url_removes_it(admin_client, integration):
    admin_client.post(SAVE_URL, {"redirect_url": URL})
    admin_client.post(SAVE_URL, {"redirect_url": ""})
    assert stored(integration) == ""


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://app.example.com/back", b"must start with https://"),
        ("https://app.example.com/{company}", b"Unknown placeholder {company}"),
        ("not a url", b"no spaces"),
    ],
)
def test_a_refused_url_says_why_and_changes_nothing(admin_client, integration, url, words):
    admin_client.post(SAVE_URL, {"redirect_url": URL})
    response = admin_client.post(SAVE_URL, {"redirect_url": url})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert words in response.content
    assert stored(integration) == URL
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.REDIRECT_URL_CHANGED).count() == 1


def test_a_member_sees_it_and_cannot_change_it(client, org_a, integration):
    Integration.objects.filter(pk=integration.pk).update(redirect_url=URL)
    client.force_login(org_a.member)

    page = client.get(SETTINGS_URL)
    assert page.status_code == HTTPStatus.OK
    assert b"company={companyId}&amp;status={status}" in page.content
    assert SAVE_URL.encode() not in page.content
    response = client.post(SAVE_URL, {"redirect_url": "https://evil.example.com/"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert stored(integration) == URL


def test_an_admin_of_another_organization_changes_only_their_own(
    client, org_a, org_b, integration, setup_sage
):
    other = setup_sage(org_b, enable=False)[0]
    client.force_login(org_b.admin)
    client.post(SAVE_URL, {"redirect_url": URL})
    assert stored(other) == URL
    assert stored(integration) == ""


def test_no_integration_yet_is_a_404(admin_client):
    response = admin_client.post(SAVE_URL, {"redirect_url": URL})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"redirect-url" not in admin_client.get(SETTINGS_URL).content
