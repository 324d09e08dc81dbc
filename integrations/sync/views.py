"""The pages' side of synced data: the company page's Data card, Sync now, the schedule."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from integrations import selectors as portal_selectors
from integrations.models import Company, Connection, Integration
from integrations.sync.forms import SyncScheduleForm
from integrations.sync.models import SyncRun
from integrations.sync.schedule import sync_schedule_set
from integrations.sync.selectors import sync_card
from integrations.sync.services import sync_request
from portal.organizations.tenancy import MemberRequest, admin_required, member_required


def _connection(request: MemberRequest, pk: int) -> tuple[Company, Connection]:
    try:
        company = portal_selectors.company_for(organization=request.organization, pk=pk)
    except Company.DoesNotExist:
        raise Http404("No such company") from None
    connection = getattr(company, "connection", None)
    if connection is None:
        raise Http404("No connection")
    return company, connection


@member_required
@require_GET
@never_cache
def company_data_card(request: MemberRequest, pk: int) -> HttpResponse:
    """The Data card alone: what the company page's card reloads while a sync runs."""
    company, connection = _connection(request, pk)
    context = {
        "company": company,
        "connection": connection,
        "sync": sync_card(connection=connection),
    }
    return render(request, "integrations/companies/_data_card.html", context)


@require_POST
@admin_required
def company_sync(request: MemberRequest, pk: int) -> HttpResponse:
    """Sync now: queue a sync of the company's data (or keep the one queued or running)."""
    company, connection = _connection(request, pk)
    if not connection.is_linked:
        messages.info(request, _("This company is not linked: there is nothing to sync."))
    else:
        sync_request(connection=connection, trigger=SyncRun.Trigger.MANUAL)
        messages.success(request, _("Sync started. The Data card shows its progress."))
    return redirect(reverse("integrations:company_detail", args=[company.pk]) + "#data")


@require_POST
@admin_required
def sync_schedule(request: MemberRequest) -> HttpResponse:
    """Save how often the linked companies' data is synced."""
    integration = get_object_or_404(
        Integration.objects.for_org(request.organization), platform=Integration.Platform.SAGE
    )
    form = SyncScheduleForm(request.POST)
    if form.is_valid():
        minutes = form.cleaned_data["sync_interval"]
        if sync_schedule_set(integration=integration, minutes=minutes, actor=request.user):
            messages.success(request, _("Sync schedule saved."))
    else:
        messages.error(request, _("Choose one of the schedules offered."))
    return redirect(reverse("integrations:integration_settings") + "#sync-schedule")
