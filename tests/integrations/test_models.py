"""QuerySet rules held by the models themselves, tested where they live."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import AuthorizationRequest, Connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_connection(org_a, setup_sage, make_company, make_connection):
    """A connection waiting for the customer (Pending authorization)."""
    _, credential_set = setup_sage(org_a)
    return make_connection(
        make_company(org_a), credential_set, status=Connection.Status.PENDING_AUTH
    )


def test_usable_authorization_requests_are_unconsumed_and_unexpired(
    pending_connection, make_authorization_request
):
    now = timezone.now()
    fresh = make_authorization_request(pending_connection, state="fresh")
    make_authorization_request(
        pending_connection, state="expired", expires_at=now - timedelta(seconds=1)
    )
    make_authorization_request(pending_connection, state="consumed", consumed_at=now)
    make_authorization_request(
        pending_connection, state="both", consumed_at=now, expires_at=now - timedelta(minutes=5)
    )

    usable = AuthorizationRequest.objects.usable()

    assert list(usable) == [fresh]
    assert list(AuthorizationRequest.objects.filter(state="expired").usable()) == []


def test_an_authorization_request_is_usable_for_ten_minutes(
    pending_connection, make_authorization_request
):
    before = timezone.now()
    request = make_authorization_request(pending_connection)
    after = timezone.now()

    assert before + timedelta(minutes=10) <= request.expires_at <= after + timedelta(minutes=10)
