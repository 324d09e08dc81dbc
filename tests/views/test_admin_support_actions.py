"""Support's actions in the admin: confirmed on a page that asks why; the organization sees why."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from integrations.configuration.services import integration_enable
from integrations.models import Connection, HistoryEvent, Integration

pytestmark = pytest.mark.django_db
REASON = "Sage support ticket 4411: the customer changed their Sage subscription."
SAVE_BUTTONS = ('name="_save"', 'name="_continue"', 'name="_addanother"')


@pytest.fixture
def support(make_user):
    client = Client()
    client.force_login(
        make_user("support@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    )
    return client


@pytest.fixture
def viewer(make_user):
    """Support staff who may look at connections and integrations but not change them."""
    user = make_user("viewer@portal.example", is_staff=True, two_factor=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_connection",
                "view_integration",
                "view_historyevent",
                "view_authorizationrequest",
            ]
        )
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def linked(org_a, setup_sage, sage_sandbox, link, make_company):
    integration, _ = setup_sage(org_a)
    company = make_company(org_a, "Corner Shop")
    link(sage_sandbox, company)
    return company.connection


def page_url(connection):
    return reverse("admin:integrations_connection_mark_for_relink", args=[connection.pk])


def disable_url(integration):
    return reverse("admin:integrations_integration_disable", args=[integration.pk])


def company_page(company):
    return reverse("integrations:company_detail", args=[company.pk])


def status(connection):
    return Connection.objects.get(pk=connection.pk).status


def support_events():
    kinds = [HistoryEvent.Kind.MARKED_FOR_RELINK, HistoryEvent.Kind.DISABLED]
    return HistoryEvent.objects.filter(kind__in=kinds)


def test_the_change_page_offers_the_action_and_the_page_asks_why(support, linked):
    change = support.get(reverse("admin:integrations_connection_change", args=[linked.pk]))
    assert page_url(linked) in change.content.decode()

    page = support.get(page_url(linked))

    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert 'name="reason"' in html
    assert "the company must link again" in html
    assert status(linked) == Connection.Status.LINKED  # a GET changes nothing


@pytest.mark.parametrize("reason", ["", "   "])
def test_no_reason_no_relink(support, linked, reason):
    response = support.post(page_url(linked), {"post": "yes", "reason": reason})

    assert response.status_code == HTTPStatus.OK
    assert "This field is required." in response.content.decode()
    assert status(linked) == Connection.Status.LINKED
    assert not support_events().exists()


def test_a_reasoned_relink_is_recorded_and_shown_to_the_organization(
    support, linked, admin_client, org_a
):
    response = support.post(page_url(linked), {"post": "yes", "reason": f"  {REASON}\n"})

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("admin:integrations_connection_change", args=[linked.pk])
    assert status(linked) == Connection.Status.DEAUTHORIZED
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.MARKED_FOR_RELINK)
    assert event.actor.email == "support@portal.example"
    assert event.details["note"] == REASON
    admin_page = support.get(response.url).content.decode()
    assert f"note: {REASON}" in admin_page
    assert page_url(linked) not in admin_page  # nothing more to mark

    html = admin_client.get(company_page(linked.company)).content.decode()
    assert f"Relink requested by support: {REASON}" in html
    assert f"Relink requested</strong>: {REASON}" in html  # in the history too, one word
    french = admin_client.get(company_page(linked.company), headers={"accept-language": "fr"})
    assert f"Nouvelle liaison demandée par le support\u00a0: {REASON}" in french.content.decode()
    assert f"Nouvelle liaison demandée</strong>: {REASON}" in french.content.decode()


def test_another_organization_sees_nothing_of_it(support, linked, org_b, client):
    support.post(page_url(linked), {"post": "yes", "reason": REASON})
    client.force_login(org_b.admin)

    assert client.get(company_page(linked.company)).status_code == HTTPStatus.NOT_FOUND
    for url in [reverse("integrations:company_list"), reverse("integrations:accounting_list")]:
        assert REASON not in client.get(url).content.decode()


def test_the_bulk_action_goes_through_the_same_page(support, linked):
    url = reverse("admin:integrations_connection_changelist")
    chosen = {"action": "mark_for_relink", "_selected_action": [linked.pk]}

    page = support.post(url, chosen)
    assert page.status_code == HTTPStatus.OK
    assert 'name="reason"' in page.content.decode()
    assert status(linked) == Connection.Status.LINKED
    refused = support.post(url, {**chosen, "post": "yes", "reason": ""})
    assert "This field is required." in refused.content.decode()
    assert status(linked) == Connection.Status.LINKED

    done = support.post(url, {**chosen, "post": "yes", "reason": REASON}, follow=True)

    assert "1 connection marked for relink." in done.content.decode()
    assert status(linked) == Connection.Status.DEAUTHORIZED
    assert HistoryEvent.objects.get(kind=HistoryEvent.Kind.MARKED_FOR_RELINK).details["note"] == (
        REASON
    )


def test_a_connection_already_marked_is_left_as_it_is(support, linked):
    support.post(page_url(linked), {"post": "yes", "reason": REASON})

    page = support.get(page_url(linked))
    again = support.post(page_url(linked), {"post": "yes", "reason": "twice"}, follow=True)

    assert page.status_code == HTTPStatus.FOUND  # no page for what cannot be done
    assert "0 connections marked for relink." in again.content.decode()
    assert support_events().count() == 1
    bulk = support.post(
        reverse("admin:integrations_connection_changelist"),
        {
            "action": "mark_for_relink",
            "_selected_action": [linked.pk],
            "post": "yes",
            "reason": "x",
        },
        follow=True,
    )
    assert "0 connections marked for relink." in bulk.content.decode()
    assert support_events().count() == 1


def test_disable_asks_why_and_the_organization_reads_it(support, org_a, setup_sage, admin_client):
    integration, _ = setup_sage(org_a)
    change = support.get(reverse("admin:integrations_integration_change", args=[integration.pk]))
    assert disable_url(integration) in change.content.decode()
    assert 'name="reason"' in support.get(disable_url(integration)).content.decode()
    support.post(disable_url(integration), {"post": "yes"})
    assert Integration.objects.get().enabled

    support.post(disable_url(integration), {"post": "yes", "reason": REASON})

    assert not Integration.objects.get().enabled
    event = HistoryEvent.objects.get(kind=HistoryEvent.Kind.DISABLED)
    assert event.details == {"via": "admin", "note": REASON}
    assert event.actor.email == "support@portal.example"
    for url in [
        reverse("integrations:accounting_list"),
        reverse("integrations:integration_settings"),
    ]:
        html = admin_client.get(url).content.decode()
        assert "Disabled by support on" in html, url
        assert REASON in html, url
    french = admin_client.get(
        reverse("integrations:accounting_list"), headers={"accept-language": "fr"}
    )
    assert "Désactivée par le support le" in french.content.decode()

    integration_enable(integration=integration, actor=org_a.admin)
    html = admin_client.get(reverse("integrations:accounting_list")).content.decode()
    assert REASON not in html


def test_disabling_from_the_list_needs_a_reason_too(support, org_a, setup_sage):
    integration, _ = setup_sage(org_a)
    url = reverse("admin:integrations_integration_changelist")
    chosen = {"action": "disable_integration", "_selected_action": [integration.pk]}

    support.post(url, chosen)
    support.post(url, {**chosen, "post": "yes", "reason": " "})
    assert Integration.objects.get().enabled

    done = support.post(url, {**chosen, "post": "yes", "reason": REASON}, follow=True)

    assert "1 integration disabled." in done.content.decode()
    assert HistoryEvent.objects.get(kind=HistoryEvent.Kind.DISABLED).details["note"] == REASON


def test_the_pages_need_the_action_permission(viewer, linked):
    integration = linked.integration
    change = viewer.get(reverse("admin:integrations_connection_change", args=[linked.pk]))
    assert change.status_code == HTTPStatus.OK
    assert page_url(linked) not in change.content.decode()

    for url in [page_url(linked), disable_url(integration)]:
        assert viewer.get(url).status_code == HTTPStatus.FORBIDDEN, url
        response = viewer.post(url, {"post": "yes", "reason": REASON})
        assert response.status_code == HTTPStatus.FORBIDDEN, url

    assert status(linked) == Connection.Status.LINKED
    assert Integration.objects.get().enabled
    assert not support_events().exists()


def test_the_page_needs_the_csrf_token(make_user, linked):
    client = Client(enforce_csrf_checks=True)
    client.force_login(
        make_user("support@portal.example", is_staff=True, is_superuser=True, two_factor=True)
    )

    response = client.post(page_url(linked), {"post": "yes", "reason": REASON})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert status(linked) == Connection.Status.LINKED


def test_read_only_records_have_no_save_button(support, viewer, linked):
    from integrations.models import AuthorizationRequest

    urls = [
        reverse("admin:integrations_integration_change", args=[linked.integration.pk]),
        reverse("admin:integrations_connection_change", args=[linked.pk]),
        reverse(
            "admin:integrations_authorizationrequest_change",
            args=[AuthorizationRequest.objects.first().pk],
        ),
        reverse("admin:integrations_historyevent_change", args=[HistoryEvent.objects.first().pk]),
    ]
    for client in (support, viewer):
        for url in urls:
            response = client.get(url)
            assert response.status_code == HTTPStatus.OK, url
            html = response.content.decode()
            assert not [button for button in SAVE_BUTTONS if button in html], url
    # A record support may edit keeps its Save button: the check above can see one.
    company = reverse("admin:integrations_company_change", args=[linked.company.pk])
    assert 'name="_save"' in support.get(company).content.decode()
