"""Companies of an organization: create, renew the link URL."""

from django.db import transaction

from portal.models import Organization

from ..history import Actor, history_record
from ..models import (
    Company,
    HistoryEvent,
    default_link_expiry,
    new_link_token,
)


@transaction.atomic
def company_create(*, organization: Organization, name: str, actor: Actor) -> Company:
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
