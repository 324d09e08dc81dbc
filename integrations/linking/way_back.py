"""The way back to the platform after a link: its redirect URL, set and filled in."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from integrations.audit.history import Actor, history_record
from integrations.models import Company, HistoryEvent, Integration
from integrations.redirect_urls import (
    WayBackStatus,
    redirect_url_fill,
    validate_redirect_url,
)

logger = logging.getLogger(__name__)


def integration_redirect_url_set(
    *, integration: Integration, redirect_url: str, actor: Actor
) -> bool:
    """Save the integration's redirect URL (validated by the caller); False when unchanged."""
    if redirect_url == integration.redirect_url:
        return False
    with transaction.atomic():
        integration.redirect_url = redirect_url
        integration.save(update_fields=["redirect_url", "updated_at"])
        history_record(
            organization=integration.organization,
            integration=integration,
            actor=actor,
            kind=HistoryEvent.Kind.REDIRECT_URL_CHANGED,
            details={"redirect_url": redirect_url},
        )
    return True


def way_back_url(*, company: Company, integration: Integration, status: WayBackStatus) -> str:
    """Where to send the customer at the end of a link, or "" for the portal's own page.

    The company's redirect URL wins over the integration's. A stored URL that no
    longer passes (http saved under DEBUG, say) is not used.
    """
    template = company.redirect_url or integration.redirect_url
    if not template:
        return ""
    try:
        validate_redirect_url(template)
    except ValidationError:
        logger.warning(
            "The redirect URL of company %s (or of its integration) is no longer valid; "
            "the customer sees the portal's result page.",
            company.pk,
        )
        return ""
    return redirect_url_fill(
        template, company_id=company.pk, external_id=company.external_id or "", status=status
    )
