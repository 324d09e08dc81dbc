"""The organization's companies: list, create, a company's page and its Sage lists, renew
its link, unlink."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from integrations import selectors
from integrations.companies import services as service
from integrations.companies.forms import CompanyForm, CompanySearchForm, ConfirmForm, LivePageForm
from integrations.connections import lifecycle as connections
from integrations.connections.live_data import LiveList, company_live_data, company_live_list
from integrations.connections.selectors import company_state
from integrations.fields import unreadable_fields
from integrations.models import Company, Connection
from integrations.sync.selectors import sync_card
from portal.failed_posts import form_after_failure, redirect_after_failure
from portal.organizations.tenancy import MemberRequest, admin_required, member_required

PAGE_SIZE = 25


def _unreadable(connection: Connection) -> bool:
    """Tokens or keys the current FIELD_ENCRYPTION_KEYS cannot read: say so, call no one."""
    return bool(unreadable_fields(connection) or unreadable_fields(connection.credential_set))


def _company(request: MemberRequest, pk: int) -> Company:
    try:
        return selectors.company_for(organization=request.organization, pk=pk)
    except Company.DoesNotExist:
        raise Http404("No such company") from None


@member_required
def company_list(request: MemberRequest) -> HttpResponse:
    form = CompanySearchForm(request.GET)
    valid = form.is_valid()
    query = form.cleaned_data["q"] if valid else ""
    status = form.cleaned_data["status"] if valid else ""
    status = status if status in selectors.CompanyFilter.values else ""
    companies = selectors.companies_for_list(
        organization=request.organization, query=query, status=status
    )
    page = Paginator(companies, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.company_list_rows(selectors.company_list_page(page))
    counts = selectors.company_filter_counts(organization=request.organization, query=query)
    kept = {k: v for k, v in (("q", query), ("status", status)) if v}
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query,
        "status": status,
        "total": counts["all"],
        "filters": [
            {
                "value": choice.value,
                "label": choice.label,
                "count": counts[choice.value],
                "current": choice.value == status,
                "query": urlencode({**kept, "status": choice.value}),
            }
            for choice in selectors.CompanyFilter
        ],
        "all_query": urlencode({"q": query}) if query else "",
        # for the pager's links: the search and filter kept, the neighbouring pages' numbers
        "pager_query": urlencode(kept) + "&" if kept else "",
        "previous": page.previous_page_number() if page.has_previous() else None,
        "next": page.next_page_number() if page.has_next() else None,
    }
    if not counts["all"] and not query:  # no company yet: what to do first, not an empty list
        context["setup_checklist"] = selectors.setup_progress(organization=request.organization)
    return render(request, "integrations/company_list.html", context)


@admin_required
@require_http_methods(["GET", "POST"])
def company_create(request: MemberRequest) -> HttpResponse:
    if request.method == "POST":
        form = CompanyForm(request.POST)
        if not form.is_valid():
            return redirect_after_failure(request, form)
        company = service.company_create(
            organization=request.organization, name=form.cleaned_data["name"], actor=request.user
        )
        messages.success(request, _("Company created. Send its link URL to your customer."))
        return redirect("integrations:company_detail", pk=company.pk)
    form = form_after_failure(request, CompanyForm)
    return render(request, "integrations/companies/create.html", {"form": form})


@member_required
@never_cache  # the link URL is a credential of sorts: no cache keeps the page
def company_detail(request: MemberRequest, pk: int) -> HttpResponse:
    company = _company(request, pk)
    connection = getattr(company, "connection", None)
    linked = connection is not None and connection.is_linked
    unreadable = connection is not None and _unreadable(connection)
    context = {
        "company": company,
        "connection": connection,
        "link_url": selectors.company_link_url(company),
        "state": company_state(company),
        "history": selectors.company_history(company=company),
        "secrets_unreadable": unreadable,
        "rejected_at": (
            selectors.credentials_rejected_at(integration=connection.integration)
            if connection is not None and request.membership.is_admin
            else None
        ),
        "live_data": (
            company_live_data(connection=connection)
            if connection is not None and linked and not unreadable
            else None
        ),
        # The Data card: the synced copy, read from our database (never from Sage).
        "sync": sync_card(connection=connection) if connection is not None else None,
    }
    return render(request, "integrations/companies/detail.html", context)


@member_required
@never_cache
def company_live_list_view(request: MemberRequest, pk: int, which: LiveList) -> HttpResponse:
    """One page of the linked company's chart of accounts or contacts, read from Sage."""
    company = _company(request, pk)
    connection = getattr(company, "connection", None)
    if connection is None or not connection.is_linked or _unreadable(connection):
        return redirect("integrations:company_detail", pk=company.pk)
    form = LivePageForm(request.GET)
    number = form.cleaned_data["page"] if form.is_valid() else 1
    page = company_live_list(connection=connection, which=which, number=number)
    context = {"company": company, "which": which, "page": page}
    return render(request, "integrations/companies/live_list.html", context)


@admin_required
@require_http_methods(["GET", "POST"])
def company_link_renew(request: MemberRequest, pk: int) -> HttpResponse:
    """Renew the link URL once confirmed: the old one, which the customer may hold, dies."""
    company = _company(request, pk)
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        company = service.company_link_renew(company=company, actor=request.user)
        messages.success(request, _("A new link URL was created; the old one no longer works."))
        return redirect("integrations:company_detail", pk=company.pk)
    return render(request, "integrations/companies/renew_confirm.html", {"company": company})


@admin_required
@require_http_methods(["GET", "POST"])
def connection_unlink(request: MemberRequest, pk: int) -> HttpResponse:
    company = _company(request, pk)
    connection = getattr(company, "connection", None)
    if connection is None or not company_state(company).can_unlink:
        messages.info(request, _("This company is not linked."))
        return redirect("integrations:company_detail", pk=company.pk)
    if request.method == "POST":
        result = connections.connection_unlink(connection=connection, actor=request.user)
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
