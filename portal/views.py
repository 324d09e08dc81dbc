from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    HttpResponseServerError,
)
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.organizations.models import Membership
from portal.organizations.tenancy import (
    SESSION_KEY,
    MemberRequest,
    NoOrganization,
    PortalRequest,
    member_required,
    membership_required,
)
from portal.redirects import local_path_or


def _is_id(value: str) -> bool:
    # ASCII digits only ("²" is a digit to str.isdigit(), not to the database), and
    # few enough of them to fit a 64-bit integer column.
    return value.isascii() and value.isdecimal() and len(value) <= 18


def home(request: PortalRequest) -> HttpResponseBase:
    """Where signing in lands: the companies list; support staff without an organization
    go to the admin (they work there, and have nothing to see in the portal)."""
    user = request.user
    if user.is_authenticated and user.is_staff and getattr(request, "organization", None) is None:
        return redirect("admin:index")
    return _companies(request)


@member_required
def _companies(request: MemberRequest) -> HttpResponse:
    return redirect("integrations:company_list")


# A member (not only an admin) of the current organization may switch to another one.
@require_POST
@membership_required
def switch_organization(request: MemberRequest) -> HttpResponse:
    """Make another of the user's organizations the current one."""
    wanted = request.POST.get("organization", "")
    membership = (
        Membership.objects.for_user(request.user)
        .select_related("organization")
        .filter(organization_id=int(wanted))
        .first()
        if _is_id(wanted)
        else None
    )
    if membership is None:
        raise Http404("No such organization")
    request.session[SESSION_KEY] = membership.organization_id
    messages.success(
        request, _("You are now working in %(name)s.") % {"name": membership.organization.name}
    )
    return HttpResponseRedirect(local_path_or(request, request.POST.get("next"), reverse("home")))


# The pages of dead ends (handler404, handler403, handler500 in portal/urls.py).


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """An unknown page, or a signed-in user who belongs to no organization yet."""
    no_organization = isinstance(exception, NoOrganization)
    template = "errors/no_organization.html" if no_organization else "errors/404.html"
    return render(request, template, status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A member asking for an admin's action, or a client user at the support admin."""
    match = getattr(request, "resolver_match", None)
    support_only = match is not None and match.app_name == "admin"
    organization = getattr(request, "organization", None)
    admins = (
        Membership.objects.admin_emails(organization)
        if organization is not None and not support_only
        else []
    )
    context = {"support_only": support_only, "admins": admins}
    return render(request, "errors/403.html", context, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """Our fault: rendered without the context processors, which may be what failed."""
    html = loader.get_template("errors/500.html").render({})
    return HttpResponseServerError(html)
