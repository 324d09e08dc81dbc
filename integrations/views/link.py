"""The business customer's pages (no login): link URL, country, Sage callback, business choice."""

import secrets
from functools import wraps
from http import HTTPStatus
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from ..forms.link import BusinessForm, CountryForm
from ..models import Integration
from ..sage import endpoints
from ..sage.businesses import Business
from ..sage.countries import UNSUPPORTED_REGIONS
from ..services import link_callback, linking
from ..services.link_callback import Result
from ..services.linking import LinkUnavailable

BROWSER_KEY = "sage_link_browser"
OUTCOME_KEY = "sage_link_outcome"
CHOICE_KEY = "sage_link_choice"
UNAVAILABLE_STATUS = {
    "unknown": HTTPStatus.NOT_FOUND,
    "expired": HTTPStatus.GONE,
    "disabled": HTTPStatus.NOT_FOUND,
    "linked": HTTPStatus.CONFLICT,
}


def private(view):
    """Keep the page out of caches (the site-wide same-origin policy keeps its URL here)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def no_referrer(view):
    """Send no Referer at all from the callback's URL, which holds the code and state."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapper


def _render(request, template, context=None, status=HTTPStatus.OK):
    # No portal navigation on the customer's pages, even for a signed-in visitor.
    return render(
        request, template, {"current_organization": None, **(context or {})}, status=status
    )


def _allow_form_to_sage(response):
    """Let the country form's redirect reach Sage's authorize page (CSP form-action)."""
    parts = urlsplit(endpoints.authorize_url())
    config = dict(settings.SECURE_CSP)
    config["form-action"] = [*config.get("form-action", ()), f"{parts.scheme}://{parts.netloc}"]
    response._csp_config = config
    return response


def _unavailable(request, reason: str, company=None):
    context = {"reason": reason, "company": company}
    return _render(request, "link/unavailable.html", context, status=UNAVAILABLE_STATUS[reason])


@require_GET
@private
def link_integrations(request, token):
    try:
        company = linking.link_company(token=token)
    except LinkUnavailable as exc:
        return _unavailable(request, exc.reason)
    integrations = linking.link_integrations(company=company)
    context = {"company": company, "integrations": integrations, "token": token}
    return _render(request, "link/choose_integration.html", context)


@require_http_methods(["GET", "POST"])
@private
def link_country(request, token, platform):
    if platform not in Integration.Platform.values:
        raise Http404
    try:
        company = linking.link_company(token=token)
        _integration, credential_set = linking.link_integration(company=company, platform=platform)
    except LinkUnavailable as exc:
        return _unavailable(request, exc.reason)
    connection = getattr(company, "connection", None)
    if connection is not None and connection.status == connection.Status.LINKED:
        return _unavailable(request, "linked", company)
    form = CountryForm(request.POST or None, api_version=credential_set.api_version)
    if request.method == "POST" and form.is_valid():
        browser_secret = request.session.setdefault(BROWSER_KEY, secrets.token_urlsafe(32))
        try:
            url = linking.link_start(
                company=company,
                platform=platform,
                country=form.cleaned_data["country"],
                browser_secret=browser_secret,
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
        "form": form,
        "credential_set": credential_set,
        "unsupported": UNSUPPORTED_REGIONS,
        "token": token,
    }
    status = HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK
    response = _render(request, "link/choose_country.html", context, status=status)
    return _allow_form_to_sage(response)


@require_GET
@private
@no_referrer
@sensitive_variables("authorization")
def oauth_callback(request):
    try:
        authorization = linking.authorization_consume(
            state=request.GET.get("state", ""), browser_secret=request.session.get(BROWSER_KEY)
        )
    except linking.BadState:
        # Under no-referrer a form POST carries "Origin: null", which CSRF refuses:
        # this page leaves out the language switch form.
        context = {"hide_language_switch": True}
        return _render(request, "link/bad_state.html", context, status=HTTPStatus.BAD_REQUEST)
    outcome = link_callback.link_complete(authorization=authorization, params=request.GET)
    company = outcome.company
    request.session[OUTCOME_KEY] = {
        "result": outcome.result,
        "detail": outcome.detail,
        "company": company.name,
        "token": company.link_token if company.link_is_valid else "",
        "business": outcome.connection.business_name,
    }
    if outcome.result == Result.CHOOSE_BUSINESS:
        request.session[CHOICE_KEY] = {
            "connection": str(outcome.connection.pk),
            "businesses": [[b.id, b.name] for b in outcome.businesses],
        }
        return redirect("integrations:link_business")
    return redirect("integrations:link_done")


@require_http_methods(["GET", "POST"])
@private
def link_business(request):
    choice = request.session.get(CHOICE_KEY)
    if not choice:
        return _render(request, "link/bad_state.html", status=HTTPStatus.BAD_REQUEST)
    businesses = [tuple(b) for b in choice["businesses"]]
    form = BusinessForm(request.POST or None, businesses=businesses)
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["business"]
        business = Business(id=chosen, name=dict(businesses)[chosen])
        try:
            link_callback.connection_business_choose(
                connection_id=choice["connection"], business=business
            )
        except LinkUnavailable:
            del request.session[CHOICE_KEY]
            return _render(request, "link/bad_state.html", status=HTTPStatus.BAD_REQUEST)
        del request.session[CHOICE_KEY]
        outcome = request.session.get(OUTCOME_KEY, {})
        request.session[OUTCOME_KEY] = {
            **outcome,
            "result": Result.LINKED,
            "business": business.name,
        }
        return redirect("integrations:link_done")
    outcome = request.session.get(OUTCOME_KEY, {})
    status = HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK
    context = {"form": form, "company_name": outcome.get("company", "")}
    return _render(request, "link/choose_business.html", context, status=status)


@require_GET
@private
def link_done(request):
    outcome = request.session.get(OUTCOME_KEY)
    if not outcome:
        return _render(request, "link/bad_state.html", status=HTTPStatus.BAD_REQUEST)
    if outcome["result"] == Result.CHOOSE_BUSINESS and request.session.get(CHOICE_KEY):
        return redirect("integrations:link_business")
    return _render(request, "link/result.html", {"outcome": outcome})
