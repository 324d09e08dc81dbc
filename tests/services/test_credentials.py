import pytest
from django.db import IntegrityError, transaction

from integrations.configuration.forms import CredentialsForm
from integrations.configuration.services import (
    IntegrationNotReady,
    RelinkNotConfirmed,
    credentials_save,
    integration_disable,
    integration_enable,
    integration_missing_fields,
)
from integrations.models import (
    Connection,
    CredentialSet,
    HistoryEvent,
    Integration,
)
from integrations.sage.versions import ApiVersion
from tests.common.factories import CLIENT_SECRET, V30_SECRETS

pytestmark = pytest.mark.django_db


V31_SECRET = CLIENT_SECRET
V30 = {
    "client_id": "client-v30",
    "client_secret": "secret-v30-AAAA",
    **V30_SECRETS,
}


def save_v31(org, **overrides):
    values = {"client_id": "client-v31", "client_secret": V31_SECRET, **overrides}
    return credentials_save(organization=org, actor=org.admin, api_version="3.1", **values)


def save_v30(org, **overrides):
    return credentials_save(
        organization=org, actor=org.admin, api_version="3.0", **{**V30, **overrides}
    )


def post_data(version="3.1", **fields):
    prefix = "v31" if version == "3.1" else "v30"
    # Choosing v3.0 for new links is confirmed (tests/views/test_guided_setup.py).
    confirmed = {"confirm_v30": "on"} if version == "3.0" else {}
    return {
        "credential_type": version,
        **confirmed,
        **{f"{prefix}-{k}": v for k, v in fields.items()},
    }


V31_FIELDS = {"client_id": "client-v31", "client_secret": V31_SECRET}
V30_FIELDS = dict(V30)


def field_cases():
    for version, fields in (("3.1", V31_FIELDS), ("3.0", V30_FIELDS)):
        for name in fields:
            yield version, fields, name


@pytest.mark.parametrize(("version", "fields", "name"), list(field_cases()))
@pytest.mark.parametrize(
    ("value", "valid", "expected"),
    [
        ("", False, None),
        ("abc def", False, None),
        ("  abcdef  ", True, "abcdef"),
        ("abcdef\n", True, "abcdef"),
        ("abc\ndef", False, None),
        ("abc\tdef", False, None),
        ("a" * 256, False, None),
        ("a" * 255, True, "a" * 255),
        ("abcé", False, None),
        ("abc\u00a0def", False, None),
        ("abc\u200bdef", False, None),
    ],
)
def test_validation_matrix(version, fields, name, value, valid, expected):
    form = CredentialsForm(post_data(version, **{**fields, name: value}))
    assert form.is_valid() is valid
    if valid:
        assert form.cleaned_data[name] == expected
    else:
        prefix = "v31" if version == "3.1" else "v30"
        assert list(form.chosen.errors) == [name], form.chosen.errors
        assert prefix in form.chosen.prefix


def test_inner_space_message_names_the_field():
    form = CredentialsForm(post_data(**{**V31_FIELDS, "client_secret": "ab cd"}))
    assert not form.is_valid()
    assert form.chosen.errors["client_secret"] == [
        "Client secret: secure keys must not contain spaces."
    ]


def test_only_the_chosen_group_is_validated():
    data = post_data("3.1", **V31_FIELDS)
    data["v30-client_id"] = "has spaces inside"
    form = CredentialsForm(data)
    assert form.is_valid()
    assert "signing_secret" not in form.cleaned_data


def test_invalid_form_saves_nothing(org_a):
    form = CredentialsForm(post_data(**{**V31_FIELDS, "client_secret": "bad secret"}))
    assert not form.is_valid()
    assert not Integration.objects.exists()
    assert not CredentialSet.objects.exists()


def test_save_creates_integration_lazily_and_keeps_secret_encrypted(org_a):
    assert not Integration.objects.exists()
    result = save_v31(org_a)
    assert result.integration.organization == org_a
    stored = CredentialSet.objects.get()
    assert stored.client_secret == V31_SECRET
    assert result.changed_fields == ["client_id", "client_secret"]


def test_blank_secret_keeps_the_stored_value(org_a):
    save_v31(org_a)
    result = save_v31(org_a, client_secret="")
    assert CredentialSet.objects.get().client_secret == V31_SECRET
    assert result.changed_fields == []


def test_blank_secret_on_a_new_set_is_required():
    form = CredentialsForm(post_data(client_id="abc", client_secret=""))
    assert not form.is_valid()
    assert "client_secret" in form.chosen.errors


def test_blank_secret_on_an_existing_set_is_accepted(org_a):
    result = save_v31(org_a)
    integration = Integration.objects.prefetch_related("credential_sets").get()
    form = CredentialsForm(post_data(client_id="abc", client_secret=""), integration=integration)
    assert form.is_valid(), form.chosen.errors
    assert form.cleaned_data["client_secret"] == ""
    assert result.credential_set.client_secret == V31_SECRET


def test_service_refuses_an_incomplete_new_set(org_a):
    with pytest.raises(IntegrationNotReady):
        save_v30(org_a, signing_secret="")
    assert not Integration.objects.exists()
    assert not CredentialSet.objects.exists()


def test_both_sets_coexist_and_switching_keeps_the_other(org_a):
    save_v30(org_a)
    save_v31(org_a)
    integration = Integration.objects.get()
    assert integration.new_links_api_version == ApiVersion.V31
    sets = {s.api_version: s for s in integration.credential_sets.all()}
    assert set(sets) == {"3.0", "3.1"}
    assert sets["3.0"].signing_secret == V30["signing_secret"]
    # Switching back without retyping secrets keeps every stored value.
    save_v30(org_a, client_secret="", signing_secret="", subscription_key="")
    integration.refresh_from_db()
    assert integration.new_links_api_version == ApiVersion.V30
    assert CredentialSet.objects.get(api_version="3.1").client_secret == V31_SECRET
    assert CredentialSet.objects.get(api_version="3.0").subscription_key == V30["subscription_key"]


def test_only_v30_set_shows_v30_selected(org_a):
    save_v30(org_a)
    integration = Integration.objects.get()
    Integration.objects.update(new_links_api_version=ApiVersion.V31)  # as a legacy row may hold
    integration.refresh_from_db()
    form = CredentialsForm(integration=integration)
    assert form.chosen_version() == ApiVersion.V30


def test_at_most_one_set_per_version(org_a):
    result = save_v31(org_a)
    duplicate = CredentialSet(
        integration=result.integration, api_version="3.1", client_id="x", client_secret="y"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


@pytest.mark.parametrize(
    "values",
    [
        {"api_version": "3.1", "client_id": "", "client_secret": "y"},
        {"api_version": "3.1", "client_id": "x", "client_secret": ""},
        {"api_version": "3.0", "client_id": "x", "client_secret": "y", "signing_secret": "z"},
        {"api_version": "3.1", "client_id": "x", "client_secret": "y", "signing_secret": "z"},
        {"api_version": "9.9", "client_id": "x", "client_secret": "y"},
    ],
)
def test_database_refuses_incomplete_sets(org_a, values):
    integration = Integration.objects.create(organization=org_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        CredentialSet(integration=integration, **values).save()


def test_enable_rule(org_a):
    integration = Integration.objects.create(organization=org_a)
    assert integration_missing_fields(integration=integration) == ["client_id", "client_secret"]
    with pytest.raises(IntegrationNotReady) as error:
        integration_enable(integration=integration, actor=org_a.admin)
    assert error.value.missing == ["Client ID", "Client secret"]

    save_v30(org_a)  # the chosen type is now 3.0 and complete
    integration.refresh_from_db()
    assert integration_missing_fields(integration=integration) == []
    assert integration_enable(integration=integration, actor=org_a.admin) is True
    assert integration_enable(integration=integration, actor=org_a.admin) is False
    integration.refresh_from_db()
    assert integration.enabled


def test_enable_refused_when_the_chosen_type_has_no_set(org_a):
    save_v30(org_a)
    Integration.objects.update(new_links_api_version=ApiVersion.V31)
    integration = Integration.objects.get()
    with pytest.raises(IntegrationNotReady):
        integration_enable(integration=integration, actor=org_a.admin)
    integration.refresh_from_db()
    assert not integration.enabled
    assert not HistoryEvent.objects.filter(kind=HistoryEvent.Kind.ENABLED).exists()


def test_disable(org_a):
    integration = save_v31(org_a).integration
    integration_enable(integration=integration, actor=org_a.admin)
    assert integration_disable(integration=integration, actor=org_a.admin) is True
    assert integration_disable(integration=integration, actor=org_a.admin) is False
    integration.refresh_from_db()
    assert not integration.enabled


def test_history_rows_name_fields_never_values(org_a):
    save_v30(org_a)
    save_v31(org_a)
    integration = Integration.objects.get()
    integration_enable(integration=integration, actor=org_a.admin)
    integration_disable(integration=integration, actor=org_a.admin)
    save_v31(org_a, client_secret="another-secret-9876")
    kinds = list(HistoryEvent.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == [
        HistoryEvent.Kind.CREDENTIALS_CHANGED,
        HistoryEvent.Kind.CREDENTIALS_CHANGED,
        HistoryEvent.Kind.CREDENTIAL_TYPE_CHANGED,
        HistoryEvent.Kind.ENABLED,
        HistoryEvent.Kind.DISABLED,
        HistoryEvent.Kind.CREDENTIALS_CHANGED,
    ]
    last = HistoryEvent.objects.order_by("pk").last()
    assert last.details["fields"] == ["client_secret"]
    assert all(e.actor == org_a.admin for e in HistoryEvent.objects.all())
    dump = repr(list(HistoryEvent.objects.values()))
    for secret in [V31_SECRET, "another-secret-9876", *V30.values()]:
        if secret.startswith("client-"):
            continue  # client IDs are not secret, and are not recorded either
        assert secret not in dump
    assert "client-v31" not in dump


@pytest.fixture
def linked_connection(make_company, make_connection):
    def make(org, credential_set, status=Connection.Status.LINKED):
        return make_connection(make_company(org, "Shop"), credential_set, status=status)

    return make


def test_changing_client_id_with_linked_connections_needs_confirmation(org_a, linked_connection):
    result = save_v31(org_a)
    connection = linked_connection(org_a, result.credential_set)
    with pytest.raises(RelinkNotConfirmed) as error:
        save_v31(org_a, client_id="new-client", client_secret="")
    assert error.value.linked == 1
    assert CredentialSet.objects.get().client_id == "client-v31"
    connection.refresh_from_db()
    assert connection.status == Connection.Status.LINKED

    result = save_v31(org_a, client_id="new-client", client_secret="", confirm_relink=True)
    assert result.relinked == 1
    connection.refresh_from_db()
    assert connection.status == Connection.Status.DEAUTHORIZED
    assert HistoryEvent.objects.filter(
        kind=HistoryEvent.Kind.MARKED_FOR_RELINK, company=connection.company
    ).exists()


def test_changing_only_the_secret_needs_no_confirmation(org_a, linked_connection):
    result = save_v31(org_a)
    connection = linked_connection(org_a, result.credential_set)
    save_v31(org_a, client_secret="rotated-secret")
    connection.refresh_from_db()
    assert connection.status == Connection.Status.LINKED


def test_form_asks_for_confirmation_when_client_id_changes(org_a, linked_connection):
    result = save_v31(org_a)
    linked_connection(org_a, result.credential_set)
    integration = Integration.objects.prefetch_related("credential_sets").get()
    data = post_data(client_id="new-client", client_secret="")
    form = CredentialsForm(data, integration=integration, linked_counts={"3.1": 1})
    assert not form.is_valid()
    assert "relink" in form.chosen.errors["client_id"][0]
    data["confirm_relink"] = "on"
    form = CredentialsForm(data, integration=integration, linked_counts={"3.1": 1})
    assert form.is_valid()
    assert form.cleaned_data["confirm_relink"] is True


@pytest.mark.parametrize("version", ["3.1", "3.0"])
def test_the_service_strips_every_key_itself(org_a, version):
    # The form strips too; the service must not depend on it (admin actions, commands
    # and scripts call it directly).
    values = {"client_id": "client-v31", "client_secret": V31_SECRET}
    if version == "3.0":
        values = dict(V30)
    padded = {name: f" \t{value}\n " for name, value in values.items()}

    credentials_save(organization=org_a, actor=org_a.admin, api_version=version, **padded)

    stored = CredentialSet.objects.get(api_version=version)
    for name, value in values.items():
        assert getattr(stored, name) == value, name
    # The same keys pasted again with other whitespace change nothing.
    again = credentials_save(
        organization=org_a,
        actor=org_a.admin,
        api_version=version,
        **{name: f"  {value} " for name, value in values.items()},
    )
    assert again.changed_fields == []
    # A secret of whitespace only is a blank secret: the stored one is kept.
    secret = "client_secret"
    kept = credentials_save(
        organization=org_a,
        actor=org_a.admin,
        api_version=version,
        **{**values, secret: "   "},
    )
    assert kept.changed_fields == []
    assert CredentialSet.objects.get(api_version=version).client_secret == values[secret]
