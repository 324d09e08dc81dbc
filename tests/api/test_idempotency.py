"""Idempotency-Key on the API's POSTs: replayed within 24 hours, refused for another body,
one execution under concurrent retries (PostgreSQL), scoped per organization."""

import json
import threading
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection as db_connection
from django.db import transaction
from django.test import Client
from django.utils import timezone

from integrations.api.problems import Code
from integrations.models import Company, IdempotentRequest
from integrations.services.housekeeping import expired_purge
from tests.common.concurrency import run_at_once
from tests.common.db_faults import needs_postgres

pytestmark = pytest.mark.django_db

COMPANIES = "/api/v1/companies"


def create(client, body, key="key-1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(
        COMPANIES, json.dumps(body), content_type="application/json", headers=headers
    )


def test_same_key_and_body_get_the_first_answer_again(api_a):
    first = create(api_a, {"name": "Acme", "external_id": "c-1"})
    assert first.status_code == HTTPStatus.CREATED
    again = create(api_a, {"name": "Acme", "external_id": "c-1"})
    assert again.status_code == HTTPStatus.CREATED
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Company.objects.count() == 1


def test_a_refusal_is_replayed_too(api_a):
    first = create(api_a, {"name": ""})
    assert first.status_code == HTTPStatus.BAD_REQUEST
    again = create(api_a, {"name": ""})
    assert again.json() == first.json()
    assert again["Content-Type"] == "application/problem+json"


def test_same_key_other_body_is_a_422(api_a):
    assert create(api_a, {"name": "Acme"}).status_code == HTTPStatus.CREATED
    other = create(api_a, {"name": "Other"})
    assert other.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert other.json()["code"] == Code.IDEMPOTENCY_KEY_REUSED
    assert Company.objects.count() == 1


def test_another_key_or_none_runs_again(api_a):
    create(api_a, {"name": "Acme"}, key="a")
    create(api_a, {"name": "Acme"}, key="b")
    create(api_a, {"name": "Acme"}, key=None)
    create(api_a, {"name": "Acme"}, key=None)
    assert Company.objects.count() == 4


def test_keys_are_each_organizations_own(api_a, api_b, org_a, org_b):
    mine = create(api_a, {"name": "Mine"})
    theirs = create(api_b, {"name": "Mine"})
    assert theirs.status_code == HTTPStatus.CREATED
    assert theirs.json()["id"] != mine.json()["id"]
    assert Company.objects.filter(organization=org_b).count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "é"])
def test_a_malformed_key_is_refused(api_a, key):
    response = api_a.post(
        COMPANIES, "{}", content_type="application/json", headers={"Idempotency-Key": key}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not Company.objects.exists()


def test_after_24_hours_the_key_runs_again_and_is_purged(api_a):
    create(api_a, {"name": "Acme"})
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = create(api_a, {"name": "Acme"})
    assert again.status_code == HTTPStatus.CREATED
    assert "Idempotent-Replayed" not in again
    assert Company.objects.count() == 2
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    expired_purge()
    assert not IdempotentRequest.objects.exists()


@needs_postgres("a trigger makes the company's INSERT fail once")
def test_a_server_error_releases_the_key(api_a, fail_writes):
    fail_writes("integrations_company", "TRUE", event="INSERT", times=1)
    failed = create(api_a, {"name": "Acme"})
    assert failed.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert failed.json()["code"] == Code.SERVER_ERROR
    assert create(api_a, {"name": "Acme"}).status_code == HTTPStatus.CREATED
    assert Company.objects.count() == 1


def test_a_running_request_makes_the_retry_a_409(api_a, org_a):
    IdempotentRequest.objects.create(
        organization=org_a, key="key-1", fingerprint="anything-running"
    )
    # The fingerprint differs: another body is a 422 even while running...
    assert create(api_a, {"name": "Acme"}).status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    from integrations.services.idempotency import request_fingerprint

    IdempotentRequest.objects.update(
        fingerprint=request_fingerprint(
            method="POST", path=COMPANIES, body=json.dumps({"name": "Acme"}).encode()
        )
    )
    # ...the same body a 409, with Retry-After.
    running = create(api_a, {"name": "Acme"})
    assert running.status_code == HTTPStatus.CONFLICT
    assert running.json()["code"] == Code.IDEMPOTENCY_KEY_IN_USE
    assert running["Retry-After"] == "1"
    # A claim whose request died long ago is taken over.
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert create(api_a, {"name": "Acme"}).status_code == HTTPStatus.CREATED


@needs_postgres("two requests at once, one held in PostgreSQL by a table lock")
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_execute_once(org_a, make_api_key):
    _api_key, key = make_api_key(org_a)
    headers = {"Authorization": f"Api-Key {key}", "Idempotency-Key": "once"}
    body = json.dumps({"name": "Acme"})
    locked, release = threading.Event(), threading.Event()

    def hold_company_table():
        # The first request's INSERT of its company waits behind this lock, so the
        # retry arrives while the first is running.
        try:
            with transaction.atomic():
                with db_connection.cursor() as cursor:
                    cursor.execute("LOCK TABLE integrations_company IN EXCLUSIVE MODE")
                locked.set()
                release.wait(10)
        finally:
            db_connection.close()

    holder = threading.Thread(target=hold_company_table)
    holder.start()
    assert locked.wait(5)
    answers: list = []

    def send(wait):
        wait()
        answers.append(
            Client(headers=headers).post(COMPANIES, body, content_type="application/json")
        )
        return answers[-1].status_code

    try:
        results: list = []
        errors: list = []
        first = threading.Thread(target=lambda: results.append(run_at_once(1, send)))
        first.start()
        # The first has claimed the key (committed) and waits on the table lock.
        for _ in range(100):
            if IdempotentRequest.objects.filter(key="once").exists():
                break
            threading.Event().wait(0.05)
        retry = Client(headers=headers).post(COMPANIES, body, content_type="application/json")
        assert retry.status_code == HTTPStatus.CONFLICT
        assert retry.json()["code"] == Code.IDEMPOTENCY_KEY_IN_USE
    finally:
        release.set()
        holder.join()
    first.join()
    assert results[0][1] == []
    assert errors == []
    assert answers[0].status_code == HTTPStatus.CREATED
    assert Company.objects.count() == 1
    replay = Client(headers=headers).post(COMPANIES, body, content_type="application/json")
    assert replay.status_code == HTTPStatus.CREATED
    assert replay.json()["id"] == answers[0].json()["id"]
