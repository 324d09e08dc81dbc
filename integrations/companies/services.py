"""Companies of an organization: create, update, delete, renew the link URL."""

from django.db import IntegrityError, transaction

from integrations.audit.history import Actor, history_record
from integrations.connections.lifecycle import UnlinkResult, connection_unlink
from integrations.connections.states import Action, actions_of
from integrations.models import Company, HistoryEvent, default_link_expiry, new_link_token
from integrations.sync.retention import records_forget
from integrations.webhooks.models import WebhookEvent
from integrations.webhooks.services import webhook_emit
from portal.organizations.models import Organization


class ExternalIdTaken(Exception):
    """Another company of the organization already has this external ID."""

    def __init__(self, existing_id: int) -> None:
        super().__init__(f"external_id already used by company {existing_id}")
        self.existing_id = existing_id


def _holder(organization: Organization, external_id: str, *, other_than: int | None = None) -> int:
    """The id of the company holding `external_id` (0 when none)."""
    holders = Company.objects.for_org(organization).filter(external_id=external_id)
    if other_than is not None:
        holders = holders.exclude(pk=other_than)
    return holders.values_list("pk", flat=True).first() or 0


def company_create(
    *,
    organization: Organization,
    name: str,
    actor: Actor,
    external_id: str | None = None,
    redirect_url: str = "",
) -> Company:
    """Create a company with a fresh link URL; raise ExternalIdTaken for a used external ID."""
    if external_id is not None and (existing := _holder(organization, external_id)):
        raise ExternalIdTaken(existing)
    try:
        with transaction.atomic():
            company = Company.objects.create(
                organization=organization,
                name=name,
                external_id=external_id,
                redirect_url=redirect_url,
                created_by=actor if actor is not None and actor.is_authenticated else None,
            )
            details: dict[str, object] = {"name": name}
            if external_id is not None:
                details["external_id"] = external_id
            if redirect_url:
                details["redirect_url"] = redirect_url
            history_record(
                organization=organization,
                company=company,
                actor=actor,
                kind=HistoryEvent.Kind.COMPANY_CREATED,
                details=details,
            )
            webhook_emit(event=WebhookEvent.COMPANY_CREATED, company=company)
    except IntegrityError:
        # Two creates with one external ID at once: the constraint kept the first.
        if external_id is not None and (existing := _holder(organization, external_id)):
            raise ExternalIdTaken(existing) from None
        raise
    return company


_UNSET = object()


def company_update(
    *,
    company: Company,
    actor: Actor,
    name: str | None = None,
    external_id: str | None | object = _UNSET,
    redirect_url: str | None = None,
) -> Company:
    """Change the name, external ID and/or redirect URL (validated by the caller).

    Raise ExternalIdTaken for a used external ID.
    """
    changes: dict[str, object] = {}
    if name is not None and name != company.name:
        changes["name"] = name
    if redirect_url is not None and redirect_url != company.redirect_url:
        changes["redirect_url"] = redirect_url
    if external_id is not _UNSET and external_id != company.external_id:
        if isinstance(external_id, str) and (
            existing := _holder(company.organization, external_id, other_than=company.pk)
        ):
            raise ExternalIdTaken(existing)
        changes["external_id"] = external_id
    if not changes:
        return company
    try:
        with transaction.atomic():
            for field, value in changes.items():
                setattr(company, field, value)
            company.save(update_fields=[*changes, "updated_at"])
            history_record(
                organization=company.organization,
                company=company,
                actor=actor,
                kind=HistoryEvent.Kind.COMPANY_UPDATED,
                details={"fields": sorted(changes), **changes},
            )
    except IntegrityError:
        if isinstance(external_id, str) and (
            existing := _holder(company.organization, external_id, other_than=company.pk)
        ):
            raise ExternalIdTaken(existing) from None
        raise
    return company


def company_delete(*, company: Company, actor: Actor) -> UnlinkResult | None:
    """Delete the company; a connection still holding tokens is unlinked first (revoked at Sage).

    Returns the unlink's result, or None when there was nothing to unlink.
    """
    connection = getattr(company, "connection", None)
    result = None
    if connection is not None and Action.UNLINK in actions_of(connection):
        result = connection_unlink(connection=connection, actor=actor)
    if connection is not None:
        records_forget(connection.pk)  # in batches, before the company's own deletion
    with transaction.atomic():
        # Its events stay in the organization's history (company: NULL), but no longer in
        # the integration's own, which lists the events without a company.
        HistoryEvent.objects.filter(company=company).update(integration=None)
        history_record(
            organization=company.organization,
            actor=actor,
            kind=HistoryEvent.Kind.COMPANY_DELETED,
            details={"name": company.name, "id": company.pk, "external_id": company.external_id},
        )
        webhook_emit(event=WebhookEvent.COMPANY_DELETED, company=company)
        company.delete()
    return result


@transaction.atomic
def company_link_renew(*, company: Company, actor: Actor) -> Company:
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
