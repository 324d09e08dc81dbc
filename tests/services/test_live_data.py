"""Live data of a linked company, read from the sandbox, and the template that shows it."""

from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from integrations.connections.live_data import PREVIEW_SIZE, LiveState, company_live_data
from integrations.connections.live_data_cache import fresh_key, last_key
from integrations.models import Connection, HistoryEvent
from integrations.sage.versions import ApiVersion
from tests.common.factories import NO_SUBSCRIPTION
from tests.linking.link_flow import expire_access_token

pytestmark = pytest.mark.django_db


def render(live_data) -> str:
    return render_to_string("integrations/companies/_live_data.html", {"live_data": live_data})


def test_linked_company_shows_business_chart_of_accounts_and_contacts(
    sage_sandbox, org_a, link_connection
):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    business = sage_sandbox.businesses[0]
    ledger = sage_sandbox.items(business, "ledger_accounts")
    contacts = sage_sandbox.items(business, "contacts")

    live = company_live_data(connection=connection)

    assert live.state == LiveState.OK
    assert live.business.name == business["name"]
    assert live.business.country
    assert live.business.address_lines
    assert live.ledger_accounts.total == len(ledger)
    assert len(live.ledger_accounts.rows) == min(PREVIEW_SIZE, len(ledger))
    assert live.ledger_accounts.rows[0]["code"] == str(ledger[0]["nominal_code"])
    assert live.contacts.total == len(contacts)
    assert live.contacts.rows[0]["name"] == contacts[0]["name"]
    html = render(live)
    assert business["name"] in html
    assert ledger[0]["name"] in html
    assert contacts[0]["name"] in html
    assert f"of {len(ledger)} ledger accounts" in html
    assert f"of {len(contacts)} contacts" in html


def test_v30_company_reads_its_lists(sage_sandbox, org_a, link_connection):
    connection = link_connection(sage_sandbox, org_a, api_version=ApiVersion.V30)

    live = company_live_data(connection=connection)

    assert live.state == LiveState.OK
    assert live.business.name == connection.business_name
    assert live.ledger_accounts.rows
    assert live.contacts.rows


def test_deauthorized_company_gets_a_relink_prompt_without_calling_sage(
    sage_sandbox, org_a, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    Connection.objects.filter(pk=connection.pk).update(
        status=Connection.Status.DEAUTHORIZED, state=Connection.State.TOKENS_REFUSED
    )
    connection.refresh_from_db()
    seen = len(sage_sandbox.requests)

    live = company_live_data(connection=connection)

    assert live.state == LiveState.RELINK
    assert len(sage_sandbox.requests) == seen
    assert "must link its Sage business again" in render(live)


def test_revoked_at_sage_becomes_deauthorized_with_a_relink_prompt(
    sage_sandbox, org_a, link_connection
):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    sage_sandbox.revoke_all()

    live = company_live_data(connection=connection)

    assert live.state == LiveState.RELINK
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.DEAUTHORIZED


def test_sage_error_is_shown_in_plain_words(sage_sandbox, org_a, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "error_array", times=3, **NO_SUBSCRIPTION)  # all three reads

    live = company_live_data(connection=connection)

    assert live.state == LiveState.ERROR
    assert live.error == "No active subscription"
    html = render(live)
    assert "No active subscription" in html
    assert live.request_id in html
    assert "Traceback" not in html
    assert "AuthorizationFailure" not in html


@pytest.mark.parametrize(
    ("resource", "part", "shown"),
    [
        ("contacts", "contacts", ("business-name", "ledger-accounts-total")),
        ("ledger_accounts", "ledger-accounts", ("business-name", "contacts-total")),
        ("businesses/{id}", "business", ("ledger-accounts-total", "contacts-total")),
    ],
)
def test_one_failed_read_leaves_the_other_two_on_the_page(
    sage_sandbox, org_a, member_client, link_connection, resource, part, shown
):
    connection = link_connection(sage_sandbox, org_a)
    # Twice: the read here, then the page's own (a partial read is not cached).
    path = resource.format(id=connection.business_id)
    sage_sandbox.fail_next("api", "status_500", times=2, path=path)

    live = company_live_data(connection=connection)

    assert live.state == LiveState.OK
    assert list(live.failed_parts) == [part.replace("-", "_")]
    assert "unavailable" in live.failed_parts[part.replace("-", "_")]
    assert cache.get(fresh_key(connection.pk)) is None  # read again on the next visit
    assert cache.get(last_key(connection.pk)) is None
    html = member_client.get(
        reverse("integrations:company_detail", args=[connection.company_id])
    ).content.decode()
    assert f'data-testid="live-part-error-{part}"' in html
    assert "The rest of the page was read." in html
    for testid in shown:
        assert f'data-testid="{testid}"' in html
    assert 'data-testid="live-data-error"' not in html
    # Sage answers again: the whole page is read and cached.
    cache.clear()
    again = company_live_data(connection=connection)
    assert again.failed_parts == {}
    assert cache.get(fresh_key(connection.pk)) == again


def test_one_failed_read_is_shown_in_french(sage_sandbox, org_a, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "status_500", path="contacts")
    live = company_live_data(connection=connection)
    with translation.override("fr"):
        html = render(live)
    assert "Sage n’a pas pu nous donner cette partie pour le moment" in html


def test_unreachable_token_endpoint_is_an_error_not_a_crash(sage_sandbox, org_a, link_connection):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    sage_sandbox.fail_next("token", "status_500")

    live = company_live_data(connection=connection)

    assert live.state == LiveState.ERROR
    assert "could not be reached" in live.error
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.LINKED


def test_template_is_translated(sage_sandbox, org_a, link_connection):
    live = company_live_data(connection=link_connection(sage_sandbox, org_a))

    with translation.override("fr"):
        html = render(live)

    assert "Plan comptable" in html
    assert "Données en direct de Sage" in html


def test_company_page_shows_live_chart_of_accounts_and_contacts(
    sage_sandbox, org_a, member_client, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    business = sage_sandbox.businesses[0]
    url = reverse("integrations:company_detail", args=[connection.company.pk])

    response = member_client.get(url)

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert sage_sandbox.items(business, "ledger_accounts")[0]["name"] in html
    assert sage_sandbox.items(business, "contacts")[0]["name"] in html
    assert connection.access_token not in html


def test_company_page_of_a_company_revoked_at_sage_prompts_to_relink(
    sage_sandbox, org_a, member_client, link_connection
):
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    sage_sandbox.revoke_all()
    url = reverse("integrations:company_detail", args=[connection.company.pk])

    first = member_client.get(url)
    second = member_client.get(url, headers={"accept-language": "fr"})

    assert first.status_code == HTTPStatus.OK
    assert "must link its Sage business again" in first.content.decode()
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.DEAUTHORIZED
    assert "relier à nouveau" in second.content.decode()


def test_other_organization_cannot_see_the_live_data(
    sage_sandbox, org_a, org_b, client, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    client.force_login(org_b.admin)
    seen = len(sage_sandbox.requests)

    response = client.get(reverse("integrations:company_detail", args=[connection.company.pk]))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert len(sage_sandbox.requests) == seen


def _api_reads(sandbox) -> list[str]:
    return [r.path for r in sandbox.requests if r.route == "api"]


def test_v30_business_details_come_live_from_the_core_api(sage_sandbox, org_a, link_connection):
    connection = link_connection(sage_sandbox, org_a, api_version=ApiVersion.V30)
    business = sage_sandbox.business(connection.resource_owner_id)

    live = company_live_data(connection=connection)

    assert f"/v30/core/v3/businesses/{connection.resource_owner_id}" in _api_reads(sage_sandbox)
    assert live.business.address_lines  # the link stored no address: this was read live
    assert live.business.name == business["name"]


def test_the_three_reads_overlap(sage_sandbox, org_a, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    sage_sandbox.fail_next("api", "slow", times=3, seconds=0.5)

    live = company_live_data(connection=connection)

    assert live.state == LiveState.OK
    assert sage_sandbox.max_api_in_flight == 3


def test_live_data_is_cached_then_read_again_after_a_change(
    sage_sandbox, org_a, link_connection, django_capture_on_commit_callbacks
):
    from integrations.connections.lifecycle import connection_mark_for_relink

    connection = link_connection(sage_sandbox, org_a)
    first = company_live_data(connection=connection)
    reads = len(_api_reads(sage_sandbox))

    again = company_live_data(connection=connection)

    assert again == first
    assert len(_api_reads(sage_sandbox)) == reads  # from the cache: Sage not asked
    with django_capture_on_commit_callbacks(execute=True):
        connection_mark_for_relink(
            connection=connection, actor=None, reason=HistoryEvent.Reason.SUPPORT
        )
    assert cache.get(fresh_key(connection.pk)) is None
    assert cache.get(last_key(connection.pk)) is None


def test_when_sage_is_down_the_last_read_is_shown_with_its_time(
    sage_sandbox, org_a, link_connection
):
    connection = link_connection(sage_sandbox, org_a)
    first = company_live_data(connection=connection)
    cache.delete(fresh_key(connection.pk))  # the short-lived copy has expired
    sage_sandbox.fail_next("api", "status_500", times=3)

    live = company_live_data(connection=connection)

    assert live.stale
    assert live.business == first.business
    assert live.read_at == first.read_at
    html = render(live)
    assert 'data-testid="live-data-stale"' in html
    assert first.business.name in html
    with translation.override("fr"):
        assert "Voici les données lues le" in render(live)


def test_a_refused_read_is_an_error_even_with_an_earlier_read(sage_sandbox, org_a, link_connection):
    connection = link_connection(sage_sandbox, org_a)
    company_live_data(connection=connection)
    cache.delete(fresh_key(connection.pk))
    sage_sandbox.fail_next("api", "error_array", times=3, **NO_SUBSCRIPTION)

    live = company_live_data(connection=connection)

    assert live.failed  # not Sage being down: the admin must see the refusal
    assert not live.stale
