"""The organization's companies: list, create, a company's page, renew its link, unlink."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.tenancy import admin_required, member_required

from ..forms.companies import CompanyForm, CompanySearchForm
from ..models import Company, Connection, HistoryEvent
from ..services import companies as service
from ..services.live_data import company_live_data

PAGE_SIZE = 25
URL_SENTINEL = 987654321  # reversed once, then replaced by each row's pk
HISTORY_SIZE = 50


def _company(request, pk) -> Company:
    companies = Company.objects.for_org(request.organization).select_related(
        "connection__credential_set", "connection__integration"
    )
    return get_object_or_404(companies, pk=pk)


@dataclass(frozen=True)
class CompanyRow:
    """One row of the companies list, with everything its cells show already worked out."""

    name: str
    url: str
    status: str  # the connection's status, "" without a connection
    status_label: str
    last_refreshed_at: datetime | None
    warnings: list[str]
    health: str  # shown when there is no warning


def _list_rows(companies) -> list[CompanyRow]:
    """Build the rows in Python rather than with template logic cell by cell.

    The detail URL is reversed once and the labels translated once per page; a
    missing reverse one-to-one (no connection yet) is looked up once per row.
    """
    detail_url = reverse("integrations:company_detail", args=[URL_SENTINEL])
    labels = {value: str(label) for value, label in Connection.Status.choices}
    not_linked, ok = _("Not linked"), _("OK")
    expires_soon, refresh_failed = _("Authorization expires soon"), _("Last refresh failed")
    rows = []
    for company in companies:
        connection = getattr(company, "connection", None)
        health = service.connection_health(connection)
        status = connection.status if connection else ""
        rows.append(
            CompanyRow(
                name=company.name,
                url=detail_url.replace(str(URL_SENTINEL), str(company.pk)),
                status=status,
                status_label=labels[status] if status else not_linked,
                last_refreshed_at=connection.last_refreshed_at if connection else None,
                warnings=[
                    text
                    for flag, text in (
                        (health.refresh_expires_soon, expires_soon),
                        (health.last_refresh_failed, refresh_failed),
                    )
                    if flag
                ],
                health=ok if status == Connection.Status.LINKED else "—",
            )
        )
    return rows


@member_required
def company_list(request):
    form = CompanySearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    companies = service.companies_for_list(organization=request.organization, query=query)
    page = Paginator(companies, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "rows": _list_rows(page), "query": query}
    return render(request, "integrations/company_list.html", context)


@admin_required
@require_http_methods(["GET", "POST"])
def company_create(request):
    form = CompanyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        company = service.company_create(
            organization=request.organization, name=form.cleaned_data["name"], actor=request.user
        )
        messages.success(request, _("Company created. Send it its link URL."))
        return redirect("integrations:company_detail", pk=company.pk)
    status = 400 if form.errors else 200
    return render(request, "integrations/companies/create.html", {"form": form}, status=status)


@member_required
def company_detail(request, pk):
    company = _company(request, pk)
    connection = getattr(company, "connection", None)
    linked = connection is not None and connection.status == Connection.Status.LINKED
    history = (
        HistoryEvent.objects.for_org(request.organization)
        .filter(company=company)
        .select_related("actor")[:HISTORY_SIZE]
    )
    context = {
        "company": company,
        "connection": connection,
        "link_url": service.company_link_url(company),
        "health": service.connection_health(connection),
        "needs_relink": connection is not None
        and connection.status in (Connection.Status.DEAUTHORIZED, Connection.Status.UNLINKED),
        "history": history,
        "live_data": company_live_data(connection=connection) if linked else None,
    }
    return render(request, "integrations/companies/detail.html", context)


@admin_required
@require_POST
def company_link_renew(request, pk):
    company = service.company_link_renew(company=_company(request, pk), actor=request.user)
    messages.success(request, _("A new link URL was created; the old one no longer works."))
    return redirect("integrations:company_detail", pk=company.pk)


@admin_required
@require_http_methods(["GET", "POST"])
def connection_unlink(request, pk):
    company = _company(request, pk)
    connection = getattr(company, "connection", None)
    if connection is None or connection.status == Connection.Status.UNLINKED:
        messages.info(request, _("This company is not linked."))
        return redirect("integrations:company_detail", pk=company.pk)
    if request.method == "POST":
        result = service.connection_unlink(connection=connection, actor=request.user)
        if result.revoke_failed:
            messages.warning(
                request,
                _(
                    "The company was unlinked here, but Sage could not be told to revoke "
                    "its authorization. The customer can remove the app in Sage."
                ),
            )
        else:
            messages.success(request, _("The company was unlinked."))
        return redirect("integrations:company_detail", pk=company.pk)
    context = {"company": company, "connection": connection}
    return render(request, "integrations/companies/unlink_confirm.html", context)


urlpatterns = [
    path("companies/", company_list, name="company_list"),
    path("companies/new/", company_create, name="company_create"),
    path("companies/<int:pk>/", company_detail, name="company_detail"),
    path("companies/<int:pk>/renew-link/", company_link_renew, name="company_link_renew"),
    path("companies/<int:pk>/unlink/", connection_unlink, name="connection_unlink"),
]
