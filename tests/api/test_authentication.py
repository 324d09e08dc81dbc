"""The API's keys: one organization each; every refusal is the same problem-shaped 401; 429."""

import logging
import time
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from integrations.api_keys.services import api_key_revoke
from integrations.models import OrganizationAPIKey

pytestmark = pytest.mark.django_db

COMPANIES = "/api/v1/companies"


def assert_unauthorized(response):
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == "Api-Key"
    body = response.json()
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"
    assert body["type"] == "about:blank"
    return body


def test_a_valid_key_reads_and_is_marked_used(api_client, org_a, make_api_key):
    api_key, key = make_api_key(org_a)
    assert api_key.last_used_at is None
    assert api_client(key).get(COMPANIES).status_code == HTTPStatus.OK
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Api-Key",
        "Api-Key ",
        "Bearer {key}",
        "api-key {key}",
        "API-Key {key}",
        "Apa-Key {key}",
        "Api-Key {key}x",
        "Api-Key {prefix}.wrongsecret",
        "Api-Key nosuchpr.abcdefabcdefabcdefabcdefabcdef12",
        "Api-Key ../../etc",
        "Api-Key {key} {key}",
        "Api-Key " + "a" * 5000,
    ],
)
def test_missing_or_malformed_or_unknown_keys_get_one_answer(client, org_a, make_api_key, header):
    api_key, key = make_api_key(org_a)
    headers = {}
    if header is not None:
        headers["Authorization"] = header.format(key=key, prefix=api_key.prefix)
    body = assert_unauthorized(client.get(COMPANIES, headers=headers))
    reference = assert_unauthorized(client.get(COMPANIES))
    assert body == reference  # never a hint of whether the key exists


def test_revoked_key_is_refused(api_client, org_a, make_api_key):
    api_key, key = make_api_key(org_a)
    api_key_revoke(api_key=api_key, actor=org_a.admin)
    assert_unauthorized(api_client(key).get(COMPANIES))


def test_expired_key_is_refused(api_client, org_a, make_api_key):
    api_key, key = make_api_key(org_a)
    OrganizationAPIKey.objects.filter(pk=api_key.pk).update(
        expiry_date=timezone.now() - timedelta(seconds=1)
    )
    assert_unauthorized(api_client(key).get(COMPANIES))


def test_unknown_api_paths_are_problem_shaped_404s(api_client, org_a, make_api_key):
    _api_key, key = make_api_key(org_a)
    response = api_client(key).get("/api/v1/nothing-here")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_throttled_per_key_with_retry_after(api_client, org_a, make_api_key, settings):
    settings.API_THROTTLE_RATE = "3/min"
    _a, key_1 = make_api_key(org_a, "One")
    _b, key_2 = make_api_key(org_a, "Two")
    first = api_client(key_1)
    for _ in range(3):
        assert first.get(COMPANIES).status_code == HTTPStatus.OK
    throttled = first.get(COMPANIES)
    assert throttled.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert throttled["Content-Type"] == "application/problem+json"
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert throttled.json()["status"] == 429
    # Counted per key: the other key is not held back.
    assert api_client(key_2).get(COMPANIES).status_code == HTTPStatus.OK


def test_the_key_never_reaches_the_logs(api_client, org_a, make_api_key, caplog):
    _api_key, key = make_api_key(org_a)
    secret = key.partition(".")[2]
    with caplog.at_level(logging.DEBUG):
        api_client(key + "x").get(COMPANIES)
        api_client(key).get("/api/v1/nothing-here")
        logging.getLogger("test").warning("Header was Authorization: Api-Key %s", key)
    assert secret not in caplog.text


def test_wrong_keys_are_throttled_per_prefix_and_logged(
    client, api_client, org_a, make_api_key, settings, caplog
):
    settings.API_AUTH_FAILURE_LIMIT = 5
    api_key, key = make_api_key(org_a)
    secret = key.partition(".")[2]
    wrong = f"Api-Key {api_key.prefix}.{'x' * 32}"
    with caplog.at_level(logging.WARNING):
        for n in range(5):
            # Each from another address: the prefix's own count stops them.
            answer = client.get(
                COMPANIES, headers={"Authorization": wrong}, REMOTE_ADDR=f"10.0.0.{n}"
            )
            assert_unauthorized(answer)
        throttled = client.get(COMPANIES, headers={"Authorization": wrong}, REMOTE_ADDR="10.0.0.9")
    assert throttled.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert throttled.json()["code"] == "too_many_failed_attempts"
    assert throttled["Retry-After"] == str(settings.API_AUTH_FAILURE_WINDOW)
    # The right key of that prefix waits too (else guessing would go on), from anywhere.
    assert api_client(key).get(COMPANIES).status_code == HTTPStatus.TOO_MANY_REQUESTS
    # Another key is not held back.
    _other, other_key = make_api_key(org_a, "Other")
    assert api_client(other_key).get(COMPANIES).status_code == HTTPStatus.OK
    logged = [r.getMessage() for r in caplog.records if "Repeated failed" in r.getMessage()]
    assert logged
    assert api_key.prefix in logged[0]
    assert secret not in caplog.text
    assert "x" * 32 not in caplog.text


def test_wrong_keys_are_throttled_per_address(client, api_client, org_a, make_api_key, settings):
    settings.API_AUTH_FAILURE_LIMIT = 3
    _api_key, key = make_api_key(org_a)
    for n in range(3):  # each a new prefix, or no key shape at all
        header = f"Api-Key guess{n}.{'y' * 32}" if n else "Api-Key not-a-key"
        assert_unauthorized(client.get(COMPANIES, headers={"Authorization": header}))
    throttled = client.get(COMPANIES, headers={"Authorization": "Api-Key other.zzzz"})
    assert throttled.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert throttled.json()["code"] == "too_many_failed_attempts"
    # The same address with a real key waits too; another address does not.
    assert api_client(key).get(COMPANIES).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert api_client(key).get(COMPANIES, REMOTE_ADDR="10.9.9.9").status_code == HTTPStatus.OK


def test_failures_below_the_limit_do_not_block(client, api_client, org_a, make_api_key, settings):
    settings.API_AUTH_FAILURE_LIMIT = 3
    api_key, key = make_api_key(org_a)
    for _ in range(2):
        assert_unauthorized(
            client.get(COMPANIES, headers={"Authorization": f"Api-Key {api_key.prefix}.nope"})
        )
    assert api_client(key).get(COMPANIES).status_code == HTTPStatus.OK
    # A good request does not count as a failure, however many.
    for _ in range(5):
        assert api_client(key).get(COMPANIES).status_code == HTTPStatus.OK


def test_the_failure_window_ends(client, api_client, org_a, make_api_key, settings):
    settings.API_AUTH_FAILURE_LIMIT = 1
    settings.API_AUTH_FAILURE_WINDOW = 1
    api_key, key = make_api_key(org_a)
    assert_unauthorized(
        client.get(COMPANIES, headers={"Authorization": f"Api-Key {api_key.prefix}.no"})
    )
    assert api_client(key).get(COMPANIES).status_code == HTTPStatus.TOO_MANY_REQUESTS
    time.sleep(1.05)
    assert api_client(key).get(COMPANIES).status_code == HTTPStatus.OK


def test_an_attack_that_goes_on_is_refused_and_logged_each_limits_worth(
    client, org_a, make_api_key, settings, caplog
):
    settings.API_AUTH_FAILURE_LIMIT = 3
    api_key, _key = make_api_key(org_a)
    wrong = {"Authorization": f"Api-Key {api_key.prefix}.{'w' * 32}"}
    with caplog.at_level(logging.WARNING):
        statuses = [client.get(COMPANIES, headers=wrong).status_code for _ in range(7)]
    assert statuses == [401, 401, 401, 429, 429, 429, 429]
    counts = [r.args[0] for r in caplog.records if "Repeated failed" in r.getMessage()]
    assert counts == [3, 3, 6, 6]  # the address's and the prefix's, at 3 and at 6
