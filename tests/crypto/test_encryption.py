import base64
import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.db import connection as db
from django.db import transaction
from django.forms import modelform_factory

from integrations import crypto
from integrations.crypto import DecryptionError, MissingKeyError
from integrations.fields import Ciphertext, EncryptedTextField, reencrypt
from integrations.models import AuthorizationRequest, Connection, CredentialSet, Integration
from tests.common.factories import CLIENT_SECRET as SECRET
from tests.common.factories import SIGNING_SECRET, SUBSCRIPTION_KEY

pytestmark = pytest.mark.django_db

OLD_KEY = crypto.generate_key()
NEW_KEY = crypto.generate_key()


def raw(pk, column="client_secret"):
    table = CredentialSet._meta.db_table
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk.hex])  # noqa: S608
        row = cursor.fetchone()
    if row is None:  # PostgreSQL stores UUIDs natively
        with db.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
            row = cursor.fetchone()
    return row[0]


def make_set(org, version="3.0", **secrets):
    integration, _ = Integration.objects.get_or_create(organization=org)
    values = {
        "client_secret": SECRET,
        "signing_secret": SIGNING_SECRET,
        "subscription_key": SUBSCRIPTION_KEY,
    }
    if version == "3.1":
        values = {"client_secret": SECRET}
    values.update(secrets)
    return CredentialSet.objects.create(
        integration=integration, api_version=version, client_id="cid", **values
    )


def test_raw_row_holds_no_plaintext(org_a):
    stored = make_set(org_a)
    for column, plaintext in [
        ("client_secret", SECRET),
        ("signing_secret", SIGNING_SECRET),
        ("subscription_key", SUBSCRIPTION_KEY),
    ]:
        value = raw(stored.pk, column)
        assert plaintext not in value
        assert value.startswith(f"v1:{crypto.current_key_id()}:")
    assert CredentialSet.objects.get(pk=stored.pk).client_secret == SECRET


def test_same_value_twice_gives_two_ciphertexts(org_a, org_b):
    first, second = make_set(org_a), make_set(org_b)
    assert raw(first.pk) != raw(second.pk)
    again = crypto.encrypt(SECRET, associated_data="x")
    assert again != crypto.encrypt(SECRET, associated_data="x")


def test_rotation_with_two_keys_then_dropping_the_old(settings, org_a):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    stored = make_set(org_a)
    old_id = crypto.stored_key_id(raw(stored.pk))
    updated_at = stored.updated_at

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    # The old key still decrypts before rotation.
    assert CredentialSet.objects.get(pk=stored.pk).client_secret == SECRET
    call_command("rotate_encryption_keys", stdout=StringIO())
    new_id = crypto.stored_key_id(raw(stored.pk))
    assert new_id != old_id
    assert new_id == crypto.current_key_id()
    for column in ("signing_secret", "subscription_key"):
        assert crypto.stored_key_id(raw(stored.pk, column)) == new_id

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    fresh = CredentialSet.objects.get(pk=stored.pk)
    assert fresh.client_secret == SECRET
    assert fresh.subscription_key == SUBSCRIPTION_KEY
    assert fresh.updated_at == updated_at  # rotation is not a credential change


def test_dropping_the_old_key_without_rotation_fails_clearly(settings, org_a):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    stored = make_set(org_a)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(DecryptionError, match="dropped too soon"):
        CredentialSet.objects.get(pk=stored.pk).client_secret  # noqa: B018
    err = StringIO()
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_encryption_keys", stdout=StringIO(), stderr=err)
    assert f"{stored.pk}: No key in FIELD_ENCRYPTION_KEYS" in err.getvalue()
    assert "dropped too soon" in err.getvalue()


@pytest.mark.parametrize("target_field", ["client_secret", "signing_secret"])
def test_ciphertext_swapped_between_rows_or_fields_fails(org_a, org_b, target_field):
    source = make_set(org_a, client_secret="secret-of-a")
    target = make_set(org_b, client_secret="secret-of-b")
    moved = raw(source.pk)  # org A's client secret
    CredentialSet.objects.filter(pk=target.pk).update(**{target_field: Ciphertext(moved)})
    with pytest.raises(DecryptionError, match="altered or moved"):
        getattr(CredentialSet.objects.get(pk=target.pk), target_field)
    # Within the same row, another field does not accept it either.
    CredentialSet.objects.filter(pk=source.pk).update(signing_secret=Ciphertext(moved))
    with pytest.raises(DecryptionError):
        CredentialSet.objects.get(pk=source.pk).signing_secret  # noqa: B018


def test_tampered_ciphertext_fails(org_a):
    stored = make_set(org_a)
    value = raw(stored.pk)
    tampered = value[:-6] + ("A" if value[-6] != "A" else "B") + value[-5:]
    CredentialSet.objects.filter(pk=stored.pk).update(client_secret=Ciphertext(tampered))
    with pytest.raises(DecryptionError):
        CredentialSet.objects.get(pk=stored.pk).client_secret  # noqa: B018


def test_wrong_key_fails_and_never_returns_the_ciphertext(settings, org_a):
    stored = make_set(org_a)
    value = raw(stored.pk)
    # Same key id is impossible with another key, so forge a value under the right id.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    kid = crypto.current_key_id()
    forged = "v1:" + kid + ":" + value.split(":", 2)[2]
    CredentialSet.objects.filter(pk=stored.pk).update(client_secret=Ciphertext(forged))
    with pytest.raises(DecryptionError):
        CredentialSet.objects.get(pk=stored.pk).client_secret  # noqa: B018


def test_missing_key_fails_on_read_and_write(settings, org_a):
    stored = make_set(org_a)
    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(MissingKeyError):
        CredentialSet.objects.get(pk=stored.pk).client_secret  # noqa: B018
    with pytest.raises(MissingKeyError), transaction.atomic():
        make_set(org_a, version="3.1")
    assert CredentialSet.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("rotate_encryption_keys", stdout=StringIO())


def test_system_check_fails_without_keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(SystemCheckError, match="FIELD_ENCRYPTION_KEYS"):
        call_command("check")


def test_plaintext_cannot_reach_the_database(org_a):
    stored = make_set(org_a)
    with pytest.raises(ValueError, match="plaintext"):
        CredentialSet.objects.filter(pk=stored.pk).update(client_secret="not-encrypted")


AD = "integrations.credentialset.client_secret:1"


@pytest.mark.parametrize("plaintext", ["", "x", SECRET, "é" * 100])
def test_every_string_survives_a_round_trip(plaintext):
    # The empty string seals to the shortest valid value: a nonce and a tag.
    assert crypto.decrypt(crypto.encrypt(plaintext, associated_data=AD), associated_data=AD) == (
        plaintext
    )


@pytest.mark.parametrize("size", [16, 24, 31, 33, 64])
def test_a_key_that_is_not_32_bytes_is_refused(settings, size):
    # AES accepts 16 and 24 byte keys: the portal does not (AES-256 only).
    settings.FIELD_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(os.urandom(size)).decode()]
    with pytest.raises(MissingKeyError, match="32 bytes"):
        crypto.encrypt("x", associated_data=AD)


def _cut(payload: str, size: int) -> str:
    return base64.b64encode(base64.b64decode(payload)[:size]).decode()


def _sealed() -> list[str]:
    return crypto.encrypt(SECRET, associated_data=AD).split(":", 2)


@pytest.mark.parametrize(
    "forge",
    [
        lambda prefix, kid, payload: f"v0:{kid}:{payload}",  # another format version
        lambda prefix, kid, payload: f"v2:{kid}:{payload}",
        lambda prefix, kid, payload: f":{kid}:{payload}",
        # The intact ciphertext with a character outside base64 added: strictly refused.
        lambda prefix, kid, payload: f"{prefix}:{kid}:{payload[:8]}*{payload[8:]}",
        lambda prefix, kid, payload: f"{prefix}:{kid}:{payload[:8]}\n{payload[8:]}",
        # One byte shorter than a nonce and a tag, and nothing at all.
        lambda prefix, kid, payload: f"{prefix}:{kid}:{_cut(payload, 12 + 16 - 1)}",
        lambda prefix, kid, payload: f"{prefix}:{kid}:",
    ],
    ids=["v0", "v2", "no-prefix", "not-base64", "newline", "short", "empty"],
)
def test_a_value_not_in_our_exact_format_does_not_decrypt(forge):
    forged = forge(*_sealed())
    with pytest.raises(DecryptionError, match="not an encrypted secret"):
        crypto.decrypt(forged, associated_data=AD)


def test_stored_key_id_names_the_key_of_our_values_only():
    prefix, kid, payload = _sealed()
    assert crypto.stored_key_id(f"{prefix}:{kid}:{payload}") == kid == crypto.current_key_id()
    others = (f"v0:{kid}:{payload}", f"v2:{kid}:{payload}", f"x:{kid}:{payload}", f"v1:{kid}", "")
    for other in others:
        assert crypto.stored_key_id(other) is None, other


# Written by this code with a fixed key: the stored format (version, key id, nonce,
# ciphertext and tag, the associated data) must keep reading what earlier releases wrote.
FIXED_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
FIXED_AD = "integrations.credentialset.client_secret:0f0e0d0c-0b0a-4908-8706-050403020100"
WRITTEN_EARLIER = (
    "v1:630dcd29:NPMisT5C9zMS+RDgxqxh6y324BV/6/fOgZyqJIPXUYg4qw0Ym7UG"
    "vhUE0MVoaRuZaVr/Vi8uhhDY38yrF61tQUTe"
)


def test_a_value_written_by_an_earlier_release_still_decrypts(settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, FIXED_KEY]  # the fixed key is the old one
    assert crypto.stored_key_id(WRITTEN_EARLIER) == "630dcd29"
    assert crypto.decrypt(WRITTEN_EARLIER, associated_data=FIXED_AD) == (
        "a secret written by an earlier release"
    )


@pytest.mark.parametrize("key", ["abc", "not base64 at all?"])
def test_a_key_that_is_not_base64_is_refused(settings, key):
    settings.FIELD_ENCRYPTION_KEYS = [key]
    with pytest.raises(MissingKeyError):
        crypto.encrypt("x", associated_data=AD)


# Fixed keys, so that the old keys' ids sort on both sides of the current one's.
CURRENT_KEY = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="  # id 72cd6e84
OLD_KEYS = (
    "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=",  # id 648aa5c5, sorts before
    "BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ=",  # id 9f4fb68f, sorts after
)


@pytest.mark.parametrize("old_key", OLD_KEYS, ids=["id-before", "id-after"])
def test_rotation_re_encrypts_exactly_the_values_under_an_old_key(settings, org_a, old_key):
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    stored = make_set(org_a, version="3.1")  # the v3.0 secrets stay empty
    settings.FIELD_ENCRYPTION_KEYS = [CURRENT_KEY, old_key]

    row = CredentialSet.objects.get(pk=stored.pk)
    assert reencrypt(row) == ["client_secret"]  # not the empty ones
    row.save(update_fields=["client_secret"])
    assert reencrypt(CredentialSet.objects.get(pk=stored.pk)) == []  # already current

    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "0 row(s) now use key 72cd6e84" in out.getvalue()


@pytest.mark.parametrize("model", [CredentialSet, Connection, AuthorizationRequest])
def test_secrets_are_never_form_fields(model):
    # The admin and any ModelForm: a secret field is never editable, so never rendered.
    form = modelform_factory(model, fields="__all__")
    secrets = {f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)}
    assert secrets
    assert not secrets & set(form.base_fields)


def test_the_models_match_their_migrations():
    # `.ci/run` checks this too; here it also guards the encrypted field's options.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
