"""The one table of a connection's allowed status transitions, and the services that obey it."""

import pytest

from integrations.connections.lifecycle import connection_mark_for_relink
from integrations.connections.refresh import connection_deauthorize
from integrations.models import Connection, HistoryEvent, TransitionNotAllowed

pytestmark = pytest.mark.django_db

S = Connection.Status
ALLOWED = {
    (S.PENDING_AUTH, S.PENDING_AUTH),
    (S.PENDING_AUTH, S.LINKED),
    (S.PENDING_AUTH, S.DEAUTHORIZED),
    (S.PENDING_AUTH, S.UNLINKED),
    (S.LINKED, S.DEAUTHORIZED),
    (S.LINKED, S.UNLINKED),
    (S.DEAUTHORIZED, S.PENDING_AUTH),
    (S.DEAUTHORIZED, S.LINKED),
    (S.DEAUTHORIZED, S.UNLINKED),
    (S.UNLINKED, S.PENDING_AUTH),
    (S.UNLINKED, S.LINKED),
}


@pytest.mark.parametrize("source", list(S))
@pytest.mark.parametrize("target", list(S))
def test_each_status_moves_only_where_the_table_allows(source, target):
    connection = Connection(status=source)
    allowed = (source, target) in ALLOWED
    assert connection.can_move_to(target) is allowed
    if allowed:
        connection.move_to(target)
        assert connection.status == target
    else:
        with pytest.raises(TransitionNotAllowed):
            connection.move_to(target)
        assert connection.status == source


@pytest.fixture
def connection_in(org_a, setup_sage, make_company, make_connection):
    _integration, credential_set = setup_sage(org_a)

    def make(status):
        return make_connection(
            make_company(org_a),
            credential_set,
            status=status,
            access_token="access",
            refresh_token="refresh",
        )

    return make


@pytest.mark.parametrize("status", [S.DEAUTHORIZED, S.UNLINKED])
def test_deauthorizing_a_connection_that_cannot_be_deauthorized_changes_nothing(
    connection_in, status
):
    connection = connection_in(status)

    with pytest.raises(TransitionNotAllowed):
        connection_deauthorize(connection=connection, reason=HistoryEvent.Reason.SUPPORT)

    connection.refresh_from_db()
    assert connection.status == status
    assert connection.refresh_token == "refresh"
    assert not HistoryEvent.objects.filter(kind=HistoryEvent.Kind.DEAUTHORIZED).exists()


@pytest.mark.parametrize(
    ("status", "marked"),
    [(S.LINKED, True), (S.PENDING_AUTH, True), (S.DEAUTHORIZED, False), (S.UNLINKED, False)],
)
def test_marking_for_relink_follows_the_table(org_a, connection_in, status, marked):
    connection = connection_in(status)

    done = connection_mark_for_relink(
        connection=connection, actor=org_a.admin, reason=HistoryEvent.Reason.SUPPORT
    )

    connection.refresh_from_db()
    assert done is marked
    assert connection.status == (S.DEAUTHORIZED if marked else status)
    assert HistoryEvent.objects.filter(kind=HistoryEvent.Kind.MARKED_FOR_RELINK).count() == marked
