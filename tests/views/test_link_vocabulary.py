"""The link flow's vocabulary: every member has its words, and the done page shows them."""

from http import HTTPStatus
from types import SimpleNamespace

import pytest
from django.urls import reverse

from integrations.linking import session as link_session
from integrations.linking.callback import LinkOutcome, Result
from integrations.linking.outcomes import (
    FAILURE_MESSAGES,
    NOTICE_WORDING,
    TOKEN_ERROR_NOTICES,
    UNAVAILABLE_WORDING,
    LinkFailure,
    Notice,
    Unavailable,
)
from integrations.linking.views import UNAVAILABLE_STATUS

pytestmark = pytest.mark.django_db

DONE = reverse("integrations:link_done")


def test_every_member_has_its_words():
    assert set(NOTICE_WORDING) == set(Notice)
    assert set(UNAVAILABLE_WORDING) == set(UNAVAILABLE_STATUS) == set(Unavailable)
    assert set(FAILURE_MESSAGES) == set(LinkFailure)
    # Keyed by the values of Sage's OAuth error kinds (a StrEnum equals its value).
    kinds = {"invalid_grant", "invalid_client", "rejected", "unavailable", "bad_response"}
    assert set(TOKEN_ERROR_NOTICES) == kinds


def stash(client, outcome: LinkOutcome) -> None:
    session = client.session
    link_session.stash_outcome(SimpleNamespace(session=session), outcome)
    session.save()


@pytest.mark.parametrize("notice", list(Notice))
def test_the_done_page_says_each_notice(client, notice):
    result = Result.LINKED if notice.success else Result.FAILED
    stash(client, LinkOutcome(result=result, notice=notice, company="Acme", business="Shop"))

    response = client.get(DONE)

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert f'data-result="{result}"' in page
    assert ("notice--success" in page) is notice.success
    assert str(NOTICE_WORDING[notice].title) in page
    message = NOTICE_WORDING[notice].message % {"company": "Acme", "business": "Shop"}
    assert message.replace("'", "&#x27;") in page


def test_an_outcome_this_code_cannot_read_is_a_bad_state(client):
    session = client.session
    session[link_session.OUTCOME_KEY] = {"result": "linked", "detail": "", "company": "Acme"}
    session.save()

    response = client.get(DONE)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b'data-testid="bad-state"' in response.content
