"""Asking Sage's token endpoint whether an integration's client ID and secret are accepted."""

import secrets
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from integrations.accounting import AccountingOAuthError, oauth
from integrations.audit.history import Actor, history_record
from integrations.configuration.services import SaveResult, credentials_save
from integrations.fields import unreadable_fields
from integrations.linking.services import callback_url
from integrations.models import CredentialSet, HistoryEvent, Integration
from portal.organizations.models import Organization


class NewKeysRejected(Exception):
    """Sage rejected keys that would replace keys in use; nothing was saved."""


@dataclass(frozen=True)
class _Candidate:
    """Keys typed on the settings page, not saved yet, as Sage's token endpoint reads them."""

    api_version: str
    client_id: str
    client_secret: str = field(repr=False)


def _ask_sage(credential_set: oauth.ClientCredentials) -> CredentialSet.Check:
    # A code Sage never issued: valid client credentials get `invalid_grant`
    # (the code is refused), wrong ones get `invalid_client`.
    try:
        oauth.exchange_code(
            credential_set=credential_set,
            code=f"portal-credentials-check-{secrets.token_urlsafe(16)}",
            code_verifier=None,
            redirect_uri=callback_url(),
        )
    except AccountingOAuthError as error:
        if error.kind == "invalid_grant":
            return CredentialSet.Check.ACCEPTED
        if error.kind == "invalid_client":
            return CredentialSet.Check.REJECTED
        return CredentialSet.Check.UNREACHABLE
    # Sage handed out tokens for a made-up code: it did accept the client, at least.
    return CredentialSet.Check.ACCEPTED


@sensitive_variables()
def credentials_check(
    *, integration: Integration, actor: Actor = None, answer: CredentialSet.Check | None = None
) -> CredentialSet.Check:
    """Check the integration's chosen credential set at Sage and record the answer.

    `answer`: what Sage already said about exactly these keys (asked just before saving).
    """
    credential_set = integration.chosen_credential_set()
    if credential_set is None:
        return CredentialSet.Check.INCOMPLETE
    if unreadable_fields(credential_set):
        result = CredentialSet.Check.UNREADABLE
    elif not credential_set.client_id or not credential_set.client_secret:
        return CredentialSet.Check.INCOMPLETE
    else:
        result = answer or _ask_sage(credential_set)
    if result in CredentialSet.SAGE_ANSWERS:
        # Only if the keys asked about are still the stored ones (a save moves updated_at).
        CredentialSet.objects.filter(
            pk=credential_set.pk, updated_at=credential_set.updated_at
        ).update(last_check_result=result.value, last_check_at=timezone.now())
    history_record(
        organization=integration.organization,
        kind=HistoryEvent.Kind.CREDENTIALS_CHECKED,
        actor=actor,
        integration=integration,
        details={"api_version": credential_set.api_version, "result": result.value},
    )
    return result


@sensitive_variables("stored_secret", "client_secret")
def _replacement(
    *, organization: Organization, api_version: str, client_id: str, client_secret: str
) -> _Candidate | None:
    """The new client ID and secret when they would replace stored keys that may be in use.

    None when there is nothing to protect: no stored set of that version, stored keys
    Sage already rejected or that cannot be read, or the client ID and secret unchanged.
    """
    stored = CredentialSet.objects.filter(
        integration__organization=organization,
        integration__platform=Integration.Platform.SAGE,
        api_version=api_version,
    ).first()
    if stored is None or stored.keys_rejected or unreadable_fields(stored):
        return None
    client_id, client_secret = client_id.strip(), client_secret.strip()
    stored_secret = stored.client_secret
    candidate = _Candidate(api_version, client_id, client_secret or stored_secret)
    if (candidate.client_id, candidate.client_secret) == (stored.client_id, stored_secret):
        return None
    return candidate


@sensitive_variables("values")
def credentials_save_checked(
    *, organization: Organization, actor: Actor, confirm_rejected: bool = False, **values: Any
) -> tuple[SaveResult, CredentialSet.Check]:
    """Save the keys (as credentials_save) and return Sage's answer about them.

    New keys that would replace stored ones are asked about first: when Sage rejects
    them, nothing is saved and NewKeysRejected is raised, unless `confirm_rejected`
    (the admin chose to save anyway). Keys in use are never broken by a typo.
    """
    candidate = _replacement(
        organization=organization,
        api_version=values["api_version"],
        client_id=values["client_id"],
        client_secret=values.get("client_secret", ""),
    )
    answer = _ask_sage(candidate) if candidate is not None else None
    if answer == CredentialSet.Check.REJECTED and not confirm_rejected:
        raise NewKeysRejected
    result = credentials_save(organization=organization, actor=actor, **values)
    # Outside the save's transaction: the keys are saved whatever Sage answers.
    checked = credentials_check(integration=result.integration, actor=actor, answer=answer)
    return result, checked
