"""Companies of an organization: create, renew the link URL, unlink."""

from dataclasses import dataclass

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from portal.models import Organization

from ..history import history_record
from ..models import (
    Company,
    Connection,
    HistoryEvent,
    default_link_expiry,
    new_link_token,
)
from ..sage import oauth
from ..sage.errors import SageOAuthError
from ..sage.versions import ApiVersion


@transaction.atomic
def company_create(*, organization: Organization, name: str, actor) -> Company:
    """Create a company with a fresh link URL."""
    company = Company.objects.create(
        organization=organization,
        name=name,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    history_record(
        organization=organization,
        company=company,
        actor=actor,
        kind=HistoryEvent.Kind.COMPANY_CREATED,
        details={"name": name},
    )
    return company


@transaction.atomic
def company_link_renew(*, company: Company, actor) -> Company:
    """Give the company a new link URL; the old one stops working at once."""
    company = Company.objects.select_for_update().get(pk=company.pk)
    company.link_token = new_link_token()
    company.link_expires_at = default_link_expiry()
    company.save(update_fields=["link_token", "link_expires_at", "updated_at"])
    history_record(
        organization=company.organization,
        company=company,
        actor=actor,
        kind=HistoryEvent.Kind.LINK_RENEWED,
        details={"expires": company.link_expires_at.isoformat()},
    )
    return company


@dataclass(frozen=True)
class UnlinkResult:
    unlinked: bool
    revoked: bool  # False when revocation was not possible or failed
    revoke_failed: bool


@sensitive_variables("refresh_token")
def connection_unlink(*, connection: Connection, actor) -> UnlinkResult:
    """Revoke the refresh token at Sage (v3.1) and set the connection Unlinked.

    A failed revocation still unlinks locally; the result says so.
    """
    connection = Connection.objects.select_related("credential_set", "company").get(
        pk=connection.pk
    )
    if connection.status == Connection.Status.UNLINKED:
        return UnlinkResult(unlinked=False, revoked=False, revoke_failed=False)
    revoked = revoke_failed = False
    refresh_token = connection.refresh_token
    if refresh_token and connection.api_version == ApiVersion.V31:
        # Sage is called outside the transaction: no row stays locked during the HTTP call.
        try:
            oauth.revoke_token(credential_set=connection.credential_set, token=refresh_token)
            revoked = True
        except SageOAuthError:
            revoke_failed = True
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection.pk)
        connection.status = Connection.Status.UNLINKED
        connection.access_token = ""
        connection.refresh_token = ""
        connection.access_token_expires_at = None
        connection.refresh_token_expires_at = None
        connection.last_error = ""
        connection.save()
        history_record(
            organization=connection.company.organization,
            integration=connection.integration,
            company=connection.company,
            actor=actor,
            kind=HistoryEvent.Kind.UNLINKED,
            details={"revoked": revoked, "revoke_failed": revoke_failed},
        )
    return UnlinkResult(unlinked=True, revoked=revoked, revoke_failed=revoke_failed)
