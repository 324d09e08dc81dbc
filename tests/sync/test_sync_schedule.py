"""Settings › Sage: how often the linked companies are synced, set by admins with history."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from integrations.audit.history import history_details_text
from integrations.models import HistoryEvent, Integration

pytestmark = pytest.mark.django_db

SETTINGS_URL = reverse("integrations:integration_settings")
SAVE_URL = reverse("integrations:sync_schedule")


@pytest.fixture
def integration(org_a, setup_sage):
    return setup_sage(org_a, enable=False)[0]


def interval(integration) -> int:
    return Integration.objects.get(pk=integration.pk).sync_interval


def events():
    return HistoryEvent.objects.filter(kind=HistoryEvent.Kind.SYNC_SCHEDULE_CHANGED)


def test_every_hour_by_default_with_the_five_choices(admin_client, integration):
    html = admin_client.get(SETTINGS_URL).content.decode()
    assert interval(integration) == Integration.SyncInterval.HOURLY
    section = html.split('data-testid="sync-schedule"')[1].split("</section>")[0]
    for minutes in (15, 60, 360, 1440, 0):
        assert f'value="{minutes}"' in section
    assert '<option value="60" selected>Every hour</option>' in section


def test_an_admin_sets_the_schedule_with_a_history_event(admin_client, org_a, integration):
    response = admin_client.post(SAVE_URL, {"sync_interval": "15"})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == SETTINGS_URL + "#sync-schedule"
    assert interval(integration) == 15
    event = events().get()
    assert event.actor == org_a.admin
    assert event.integration == integration
    assert event.details == {"schedule": 15, "previous_schedule": 60}
    assert history_details_text(event) == (
        "sync schedule: Every 15 minutes; previous sync schedule: Every hour."
    )
    page = admin_client.get(SETTINGS_URL).content.decode()
    assert "Sync schedule saved." in page
    assert "Sync schedule changed</strong>: Every 15 minutes" in page
    assert '<option value="15" selected>' in page


def test_off_and_the_same_value_again(admin_client, integration):
    admin_client.post(SAVE_URL, {"sync_interval": "0"})
    admin_client.post(SAVE_URL, {"sync_interval": "0"})
    assert interval(integration) == 0
    assert events().count() == 1  # the second save changed nothing


@pytest.mark.parametrize("value", ["30", "-60", "", "hourly", "99999999999999999999"])
def test_a_schedule_not_offered_changes_nothing(admin_client, integration, value):
    response = admin_client.post(SAVE_URL, {"sync_interval": value}, follow=True)
    assert response.status_code == HTTPStatus.OK
    assert "Choose one of the schedules offered." in response.content.decode()
    assert interval(integration) == 60
    assert not events().exists()


def test_a_member_reads_it_and_cannot_change_it(client, org_a, integration):
    client.force_login(org_a.member)
    page = client.get(SETTINGS_URL, headers={"accept-language": "fr"}).content.decode()
    assert "Fréquence : Toutes les heures." in page
    assert SAVE_URL not in page
    assert client.post(SAVE_URL, {"sync_interval": "15"}).status_code == HTTPStatus.FORBIDDEN
    assert interval(integration) == 60


def test_an_admin_of_another_organization_changes_only_their_own(
    client, org_b, integration, setup_sage
):
    other = setup_sage(org_b, enable=False)[0]
    client.force_login(org_b.admin)
    client.post(SAVE_URL, {"sync_interval": "1440"})
    assert interval(other) == 1440
    assert interval(integration) == 60


def test_no_integration_yet_is_a_404(admin_client):
    assert admin_client.post(SAVE_URL, {"sync_interval": "15"}).status_code == 404
    assert 'data-testid="sync-schedule"' not in admin_client.get(SETTINGS_URL).content.decode()


def test_a_schedule_set_elsewhere_is_shown_as_it_is(admin_client, integration):
    Integration.objects.filter(pk=integration.pk).update(sync_interval=30)
    section = (
        admin_client.get(SETTINGS_URL).content.decode().split('data-testid="sync-schedule"')[1]
    )
    assert '<option value="30" selected>Every 30 minutes</option>' in section
    assert '<option value="60">Every hour</option>' in section
