"""A megabyte in a form field is refused without being sent back; link URLs are not cached."""

from http import HTTPStatus

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

MEGABYTE = "A" * 1_000_000


def test_a_megabyte_company_name_is_not_echoed(admin_client):
    # Before: the 400 page carried the megabyte back in the input's value.
    url = reverse("integrations:company_create")
    response = admin_client.post(url, {"name": MEGABYTE}, follow=True)
    assert response.redirect_chain == [(url, HTTPStatus.SEE_OTHER)]
    assert "at most 200 characters" in response.content.decode()
    assert len(response.content) < 50_000
    # Nor kept in the session on its way to the page.
    assert len(admin_client.session.encode(dict(admin_client.session))) < 50_000


@pytest.mark.parametrize("version", ["3.1", "3.0"])
def test_a_megabyte_client_id_is_not_echoed(admin_client, version):
    prefix = "v31" if version == "3.1" else "v30"
    data = {
        "credential_type": "3.1",
        # The chosen group and the other one: neither sends the megabyte back.
        f"{prefix}-client_id": MEGABYTE,
        f"{prefix}-client_secret": "a-secret-value",
    }
    response = admin_client.post(reverse("integrations:integration_settings"), data, follow=True)
    assert response.status_code == HTTPStatus.OK
    assert len(response.content) < 100_000


def test_a_short_invalid_value_is_still_shown_for_correction(admin_client):
    data = {"credential_type": "3.1", "v31-client_id": "has a space", "v31-client_secret": "x"}
    response = admin_client.post(reverse("integrations:integration_settings"), data, follow=True)
    assert 'value="has a space"' in response.content.decode()


def test_the_company_page_is_not_cached(admin_client, make_company, org_a):
    # Before: no Cache-Control, so the link URL could stay in a shared or browser cache.
    company = make_company(org_a)
    response = admin_client.get(reverse("integrations:company_detail", args=[company.pk]))
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("name", ["integration_settings", "company_list", "accounting_list"])
def test_admin_pages_let_forms_end_here_only(admin_client, sage_sandbox, org_a, setup_sage, name):
    # Already true before this change (the country page alone adds Sage's origin,
    # tests/views/test_link_pages.py); this covers the admin pages too.
    setup_sage(org_a)
    policy = admin_client.get(reverse(f"integrations:{name}"))["Content-Security-Policy"]
    assert "form-action 'self';" in policy + ";"
    assert sage_sandbox.url not in policy
