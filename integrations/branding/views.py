"""Settings › Branding (what the customer's link pages show), and the logo those pages load."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from integrations.branding import selectors
from integrations.branding.forms import BrandingForm
from integrations.branding.services import organization_branding_save
from portal.organizations.tenancy import MemberRequest, member_required

# Content-hashed URLs: a new logo is a new URL, so the old one may be kept for good.
LOGO_CACHE_CONTROL = "public, max-age=31536000, immutable"


@member_required  # members read; only admins may POST (member_required refuses them)
@require_http_methods(["GET", "POST"])
def branding_settings(request: MemberRequest) -> HttpResponse:
    organization = request.organization
    form = BrandingForm(
        request.POST or None,
        request.FILES or None,
        organization_name=organization.name,
        initial={
            "display_name": organization.display_name,
            "privacy_url": organization.privacy_url,
            "redirect_origins": organization.redirect_origins,
            "website_url": organization.website_url,
        },
    )
    if request.method == "POST" and form.is_valid():
        organization_branding_save(
            organization=organization,
            display_name=form.cleaned_data["display_name"],
            privacy_url=form.cleaned_data["privacy_url"],
            website_url=form.cleaned_data["website_url"],
            logo_png=form.cleaned_data["logo"],
            remove_logo=form.cleaned_data["remove_logo"],
            redirect_origins=form.cleaned_data["redirect_origins"],
        )
        messages.success(request, _("Your branding was saved."))
        return redirect("integrations:branding")
    status = 400 if form.errors else 200
    context = {"form": form, "organization": organization}
    return render(request, "integrations/branding.html", context, status=status)


@require_safe
def brand_logo(request: HttpRequest, organization_id: int, version: str) -> HttpResponseBase:
    """An organization's logo, a PNG the portal encoded itself (public: the link pages show it)."""
    organization = selectors.organization_logo(organization_id=organization_id, version=version)
    if organization is None:
        raise Http404("No such logo")
    response = FileResponse(organization.logo.open("rb"), content_type="image/png")
    response["Cache-Control"] = LOGO_CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = 'inline; filename="logo.png"'
    return response
