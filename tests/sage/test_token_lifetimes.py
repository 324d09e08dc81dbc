"""Token lifetimes from Sage, read defensively: huge, infinite, negative, fractional, strings."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.connections.refresh import connection_refresh
from integrations.models import Connection
from integrations.sage.oauth import MAX_LIFETIME, token_lifetime
from tests.linking.link_flow import expire_access_token

pytestmark = pytest.mark.django_db

# As JSON carries them: the sandbox sends float("inf") as the bare word Infinity.
ODD_LIFETIMES = [10**12, 1e300, float("inf"), "Infinity", "1e400", -5, 0, "soon", None, True]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (300, 300),
        (299.9, 299),
        ("300", 300),
        (" 2678400 ", 2678400),
        (10**12, MAX_LIFETIME),
        (1e300, MAX_LIFETIME),
        (float("inf"), MAX_LIFETIME),
        ("Infinity", MAX_LIFETIME),
        (float("-inf"), None),
        (float("nan"), None),
        ("NaN", None),
        (-5, None),
        (0, None),
        (0.5, None),
        ("soon", None),
        ("9" * 5000, None),
        (True, None),
        (None, None),
        ([300], None),
    ],
)
def test_token_lifetime_clamps_or_drops(value, seconds):
    assert token_lifetime(value) == seconds


def within_a_year(moment) -> bool:
    now = timezone.now()
    return now < moment <= now + timedelta(seconds=MAX_LIFETIME + 60)


@pytest.mark.parametrize("lifetime", ODD_LIFETIMES)
def test_the_callback_links_whatever_lifetimes_sage_sends(
    sage_sandbox, org_a, setup_sage, make_company, link, lifetime
):
    # Before: OverflowError at the callback (a 500, the state spent, nothing recorded).
    setup_sage(org_a)
    sage_sandbox.token_answer_overrides = {
        "expires_in": lifetime,
        "refresh_token_expires_in": lifetime,
    }
    connection = link(sage_sandbox, make_company(org_a))
    assert connection.status == Connection.Status.LINKED
    assert within_a_year(connection.access_token_expires_at)
    assert connection.refresh_token_expires_at is None or within_a_year(
        connection.refresh_token_expires_at
    )


@pytest.mark.parametrize("lifetime", ODD_LIFETIMES)
def test_a_refresh_keeps_the_rotated_token_whatever_lifetimes_sage_sends(
    sage_sandbox, org_a, link_connection, lifetime
):
    # Before: OverflowError after Sage rotated the refresh token, which was then lost.
    connection = expire_access_token(link_connection(sage_sandbox, org_a), sage_sandbox)
    old_refresh = connection.refresh_token
    sage_sandbox.token_answer_overrides = {
        "expires_in": lifetime,
        "refresh_token_expires_in": lifetime,
    }
    connection_refresh(connection=connection)
    connection.refresh_from_db()
    assert connection.status == Connection.Status.LINKED
    assert connection.refresh_token
    assert connection.refresh_token != old_refresh
    assert within_a_year(connection.access_token_expires_at)
    # The new refresh token works: the next refresh is accepted.
    sage_sandbox.token_answer_overrides = {}
    connection = expire_access_token(connection, sage_sandbox)
    assert connection_refresh(connection=connection).status == Connection.Status.LINKED
