"""Each event is numbered in its company's sequence, in the transaction that makes it.

Deliveries are retried, so they may arrive out of order: `sequence` (1, 2, ...) lets a
receiver order a company's events. `company.deleted` is the last of its company's.
"""

import contextlib
from datetime import timedelta
from importlib import import_module
from pkgutil import iter_modules

import pytest
from django.apps import apps
from django.db import DatabaseError, transaction
from django.db import connection as db_connection
from django.utils import timezone

from integrations import migrations
from integrations.companies.services import company_create, company_delete
from integrations.models import Company
from integrations.services.housekeeping import expired_purge
from integrations.webhooks.models import EventSequence, PlatformEvent, WebhookEvent
from integrations.webhooks.services import webhook_emit
from tests.common.concurrency import run_at_once
from tests.common.db_faults import needs_postgres, postgres_only

pytestmark = pytest.mark.django_db

# The data migration that made the counters (found by its name: the lead numbers it).
MIGRATION = import_module(
    "integrations.migrations."
    + next(m.name for m in iter_modules(migrations.__path__) if m.name.endswith("_event_sequence"))
)


def sequences(company_id):
    return list(
        PlatformEvent.objects.filter(company_id=company_id)
        .order_by("id")
        .values_list("type", "sequence")
    )


def test_each_company_counts_its_own_events(org_a, org_b):
    acme = company_create(organization=org_a, name="Acme", actor=None)
    beta = company_create(organization=org_b, name="Beta", actor=None)
    webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="access_denied")
    webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="access_denied")

    assert sequences(acme.pk) == [
        ("company.created", 1),
        ("link.failed", 2),
        ("link.failed", 3),
    ]
    assert sequences(beta.pk) == [("company.created", 1)]
    event = PlatformEvent.objects.get(company_id=acme.pk, sequence=3)
    assert event.payload["sequence"] == 3
    assert event.payload["data"]["reason"] == "access_denied"
    assert event.organization == org_a


def test_a_rolled_back_change_leaves_no_event_and_no_gap(org_a):
    acme = company_create(organization=org_a, name="Acme", actor=None)

    def change_that_fails():
        with transaction.atomic():
            webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="x")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_that_fails()
    webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="y")

    assert sequences(acme.pk) == [("company.created", 1), ("link.failed", 2)]
    assert PlatformEvent.objects.get(sequence=2).payload["data"]["reason"] == "y"


def test_company_deleted_is_the_last_event_and_the_events_stay(org_a):
    acme = company_create(organization=org_a, name="Acme", actor=None)
    acme_id = acme.pk
    company_delete(company=acme, actor=None)

    assert sequences(acme_id) == [("company.created", 1), ("company.deleted", 2)]
    deleted = PlatformEvent.objects.get(type="company.deleted")
    assert deleted.payload["data"]["company"]["id"] == acme_id
    assert deleted.payload["data"]["company"]["name"] == "Acme"


@needs_postgres(
    "SQLite serialises writers, so two events cannot race there; on PostgreSQL the "
    "company's row lock numbers them one after the other"
)
@pytest.mark.django_db(transaction=True)
def test_events_made_at_once_get_distinct_numbers_in_commit_order(org_a):
    acme = company_create(organization=org_a, name="Acme", actor=None)

    def emit(wait):
        with transaction.atomic():
            wait()
            webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="x")

    results, errors = run_at_once(4, emit)
    assert errors == []
    numbers = [s for _, s in sequences(acme.pk)]
    assert numbers == [1, 2, 3, 4, 5]  # in the order they were written (and committed)


def test_numbers_go_on_after_the_retention_deleted_every_event(org_a, settings):
    acme = company_create(organization=org_a, name="Acme", actor=None)
    webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="access_denied")
    PlatformEvent.objects.filter(company_id=acme.pk).update(
        created_at=timezone.now() - timedelta(days=settings.EVENTS_RETENTION_DAYS + 1)
    )
    assert expired_purge().events == 2
    assert sequences(acme.pk) == []

    webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="server_error")

    # A receiver that ordered by sequence would have seen 1 again, before its 1 and 2.
    assert sequences(acme.pk) == [("link.failed", 3)]


def test_the_migration_starts_each_counter_from_its_companys_greatest_kept_number(org_a):
    acme = company_create(organization=org_a, name="Acme", actor=None)
    beta = company_create(organization=org_a, name="Beta", actor=None)
    for _ in range(3):
        webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="x")
    gone = company_create(organization=org_a, name="Gone", actor=None)
    company_delete(company=gone, actor=None)  # its events stay, the company does not
    PlatformEvent.objects.filter(company_id=acme.pk, sequence__lt=3).delete()  # retention
    EventSequence.objects.all().delete()

    MIGRATION.fill(apps, None)

    assert dict(EventSequence.objects.values_list("company_id", "last")) == {
        acme.pk: 4,
        beta.pk: 1,
    }
    webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="x")
    assert sequences(acme.pk)[-1] == ("link.failed", 5)


@postgres_only
def test_an_event_that_cannot_be_kept_fails_the_change_that_made_it(org_a, fail_writes):
    acme = company_create(organization=org_a, name="Acme", actor=None)
    fail_writes("integrations_platformevent", "true", event="INSERT")

    def change_that_swallows_the_failure():
        with transaction.atomic():
            Company.objects.filter(pk=acme.pk).update(name="Renamed")  # the change
            with contextlib.suppress(DatabaseError):
                webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="x")
            Company.objects.filter(pk=acme.pk).update(name="Renamed again")

    # It cannot commit its change without the event: the transaction can go no further.
    with pytest.raises(DatabaseError):
        change_that_swallows_the_failure()

    assert Company.objects.get(pk=acme.pk).name == "Acme"


@needs_postgres("a write refused by a trigger outside any transaction: SQLite has no such triggers")
@pytest.mark.django_db(transaction=True)
def test_an_event_that_failed_outside_a_transaction_leaves_no_gap(org_a):
    acme = company_create(organization=org_a, name="Acme", actor=None)
    with db_connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_event BEFORE INSERT ON integrations_platformevent "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse_event()"
        )
    try:
        with pytest.raises(DatabaseError):  # no transaction of the caller's: autocommit
            webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="x")
    finally:
        with db_connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse_event ON integrations_platformevent")
            cursor.execute("DROP FUNCTION test_refuse_event()")

    webhook_emit(event=WebhookEvent.LINK_FAILED, company=acme, reason="y")

    assert sequences(acme.pk) == [("company.created", 1), ("link.failed", 2)]
