"""The business customer's pages (no login): link URL, country, Sage callback, business choice."""

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csp import csp_override
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from integrations import accounting
from integrations.accounting import UNSUPPORTED_REGIONS, endpoints
from integrations.branding.selectors import brand_organization
from integrations.connections import errors as connection_errors
from integrations.linking import callback as link_callback
from integrations.linking import selectors as link_reads
from integrations.linking import services as linking
from integrations.linking import session as link_session
from integrations.linking.callback import LinkOutcome, Result
from integrations.linking.forms import BusinessForm, CountryForm
from integrations.linking.outcomes import UNAVAILABLE_WORDING, LinkUnavailable, Unavailable
from integrations.models import Company, Connection, Integration
from integrations.redirect_urls import url_origin
from portal.organizations.models import Organization

# allauth's rate limiter (the shared cache, the client address behind
# ALLAUTH_TRUSTED_PROXY_COUNT proxies); the rates are in ACCOUNT_RATE_LIMITS.
LINK_START_RATE = "link_start"
UNAVAILABLE_STATUS = {
    Unavailable.UNKNOWN: HTTPStatus.NOT_FOUND,
    Unavailable.EXPIRED: HTTPStatus.GONE,
    Unavailable.DISABLED: HTTPStatus.NOT_FOUND,
    Unavailable.LINKED: HTTPStatus.CONFLICT,
    Unavailable.TOO_MANY: HTTPStatus.TOO_MANY_REQUESTS,
}


View = Callable[..., HttpResponse]


def no_referrer(view: View) -> View:
    """Send no Referer at all from the callback's URL, which holds the code and state."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper


def _form_action_to(
    origin: str, view: View, request: HttpRequest, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Run the view with `origin` added to its page's CSP form-action: a form posted
    from the page may then end in a redirect there (browsers check every hop)."""
    if not origin:
        return view(request, *args, **kwargs)
    policy = dict(settings.SECURE_CSP)
    policy["form-action"] = [*policy.get("form-action", ()), origin]
    return csp_override(policy)(view)(request, *args, **kwargs)


def form_to_sage(view: View) -> View:
    """Let the country form's redirect reach Sage's authorize page (CSP form-action).

    The origin is read from the settings on each request: tests and the sandbox
    point SAGE_AUTHORIZE_URL at a loopback server.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        origin = url_origin(endpoints.authorize_url())
        return _form_action_to(origin, view, request, *args, **kwargs)

    return wrapper


def form_to_way_back(view: View) -> View:
    """Let the business form end at the platform's redirect URL (CSP form-action)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        choice = link_session.peek_choice(request)
        origin = url_origin(choice.way_back) if choice else ""
        return _form_action_to(origin, view, request, *args, **kwargs)

    return wrapper


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    # No portal navigation on the customer's pages, even for a signed-in visitor.
    return render(
        request, template, {"current_organization": None, **(context or {})}, status=status
    )


def _unavailable(
    request: HttpRequest, reason: Unavailable, company: Company | None = None
) -> HttpResponse:
    context = {
        "wording": UNAVAILABLE_WORDING[reason],
        "company": company,
        "organization": company.organization if company else None,
    }
    return _render(request, "link/unavailable.html", context, status=UNAVAILABLE_STATUS[reason])


def _organization_of(outcome: LinkOutcome | None) -> Organization | None:
    """The organization that asked, for its brand on the pages back from Sage."""
    return brand_organization(pk=outcome.organization if outcome else None)


def _bad_state(request: HttpRequest, context: dict[str, Any] | None = None) -> HttpResponse:
    return _render(request, "link/bad_state.html", context, status=HTTPStatus.BAD_REQUEST)


@require_GET
@never_cache
def link_integrations(request: HttpRequest, token: str) -> HttpResponse:
    try:
        company = link_reads.company_for_link_token(token=token)
    except LinkUnavailable as exc:
        return _unavailable(request, exc.reason, exc.company)
    connection = getattr(company, "connection", None)
    status = connection.status if connection else None
    context = {
        "company": company,
        "organization": company.organization,
        "already_linked": status == Connection.Status.LINKED,
        "relinking": status in (Connection.Status.DEAUTHORIZED, Connection.Status.UNLINKED),
        "integrations": link_reads.link_integrations(company=company),
        "token": token,
    }
    return _render(request, "link/choose_integration.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
@form_to_sage
def link_country(request: HttpRequest, token: str, platform: str) -> HttpResponse:
    if platform not in Integration.Platform.values:
        raise Http404
    try:
        company = link_reads.company_for_link_token(token=token)
        _integration, credential_set = link_reads.link_integration(
            company=company, platform=platform
        )
    except LinkUnavailable as exc:
        return _unavailable(request, exc.reason, exc.company)
    connection = getattr(company, "connection", None)
    if connection is not None and connection.is_linked:
        return _unavailable(request, Unavailable.LINKED, company)
    form = CountryForm(request.POST or None, api_version=credential_set.api_version)
    if request.method == "POST" and form.is_valid():
        # Each start writes a row and a session: per link URL and per address, a few only.
        if not ratelimit.consume(request, action=LINK_START_RATE, key=token):
            return _unavailable(request, Unavailable.TOO_MANY, company)
        try:
            url = linking.link_start(
                company=company,
                platform=platform,
                country=form.cleaned_data["country"],
                offered_version=credential_set.api_version,
                browser_secret=link_session.browser_secret(request),
            )
        except LinkUnavailable as exc:
            return _unavailable(request, exc.reason, company)
        except linking.CountryNotOffered:
            messages.warning(
                request, _("The countries on offer have just changed. Please choose again.")
            )
            return redirect(request.path)
        return redirect(url)
    context = {
        "company": company,
        "organization": company.organization,
        "form": form,
        "credential_set": credential_set,
        "legacy_only": accounting.is_legacy(credential_set.api_version),
        "unsupported": UNSUPPORTED_REGIONS,
        "token": token,
    }
    status = HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK
    return _render(request, "link/choose_country.html", context, status=status)


@require_GET
@never_cache
@no_referrer
@sensitive_variables("authorization")
def oauth_callback(request: HttpRequest) -> HttpResponse:
    try:
        authorization = linking.authorization_consume(
            state=request.GET.get("state", ""),
            browser_secret=link_session.peek_browser_secret(request),
        )
    except linking.BadState:
        # Under no-referrer a form POST carries "Origin: null", which CSRF refuses:
        # this page leaves out the language switch form.
        return _bad_state(request, {"hide_language_switch": True})
    outcome = link_callback.link_complete(authorization=authorization, params=request.GET)
    link_session.stash_outcome(request, outcome.stored)
    if outcome.choice is not None:
        link_session.stash_choice(request, outcome.choice)
        return redirect("integrations:link_business")
    return redirect("integrations:link_done")


@require_http_methods(["GET", "POST"])
@never_cache
@form_to_way_back
def link_business(request: HttpRequest) -> HttpResponse:
    choice = link_session.peek_choice(request)
    if choice is None:
        return _bad_state(request)
    form = BusinessForm(request.POST or None, businesses=list(choice.businesses))
    outcome = link_session.peek_outcome(request)
    if request.method == "POST" and form.is_valid():
        link_session.pop_choice(request)
        try:
            linked = link_callback.link_business_choose(
                choice=choice, business_id=form.cleaned_data["business"], outcome=outcome
            )
        except connection_errors.ChoiceTooLate:
            return _bad_state(request)
        link_session.stash_outcome(request, linked)
        return redirect("integrations:link_done")
    status = HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK
    context = {
        "form": form,
        "company_name": outcome.company if outcome else "",
        "organization": _organization_of(outcome),
    }
    return _render(request, "link/choose_business.html", context, status=status)


@require_GET
@never_cache
def link_done(request: HttpRequest) -> HttpResponse:
    outcome = link_session.peek_outcome(request)
    if outcome is None:
        return _bad_state(request)
    if outcome.result == Result.CHOOSE_BUSINESS and link_session.peek_choice(request):
        return redirect("integrations:link_business")
    if outcome.way_back:
        # Back to the platform: its URL with the company, its external ID and the status,
        # nothing of the trip to Sage (no code, no state).
        return HttpResponseRedirect(outcome.way_back)
    context = {"outcome": outcome, "organization": _organization_of(outcome)}
    return _render(request, "link/result.html", context)
