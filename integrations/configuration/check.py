"""Asking Sage's token endpoint whether an integration's client ID and secret are accepted."""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from integrations.accounting import AccountingOAuthError, oauth
from integrations.audit.history import Actor, history_record
from integrations.fields import unreadable_fields
from integrations.linking.services import callback_url
from integrations.models import CredentialSet, HistoryEvent, Integration


class CheckResult(models.TextChoices):
    ACCEPTED = "accepted", _("Sage accepted this client ID and secret")
    REJECTED = "rejected", _("Sage rejected this client ID or secret")
    UNREACHABLE = "unreachable", _("Sage could not be reached; try again in a few minutes")
    INCOMPLETE = "incomplete", _("Save the client ID and secret before checking them")
    UNREADABLE = (
        "unreadable",
        _(
            "The stored secrets cannot be read with the current encryption keys: enter the "
            "client secret again and save, or restore the key that encrypted them"
        ),
    )


def _ask_sage(credential_set: CredentialSet) -> CheckResult:
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
            return CheckResult.ACCEPTED
        if error.kind == "invalid_client":
            return CheckResult.REJECTED
        return CheckResult.UNREACHABLE
    # Sage handed out tokens for a made-up code: it did accept the client, at least.
    return CheckResult.ACCEPTED


@sensitive_variables()
def credentials_check(*, integration: Integration, actor: Actor = None) -> CheckResult:
    """Check the integration's chosen credential set at Sage and record the answer."""
    credential_set = integration.chosen_credential_set()
    if credential_set is None:
        return CheckResult.INCOMPLETE
    if unreadable_fields(credential_set):
        result = CheckResult.UNREADABLE
    elif not credential_set.client_id or not credential_set.client_secret:
        return CheckResult.INCOMPLETE
    else:
        result = _ask_sage(credential_set)
    if result in CredentialSet.Check.values:
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
