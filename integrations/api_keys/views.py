"""Settings › API keys: the organization's keys; admins create (shown once) and revoke."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from integrations.api_keys import selectors
from integrations.api_keys import services as service
from integrations.api_keys.forms import ApiKeyForm
from integrations.models import OrganizationAPIKey
from portal.failed_posts import form_after_failure, redirect_after_failure
from portal.organizations.tenancy import MemberRequest, admin_required, member_required


def _page(request: MemberRequest, *, form: ApiKeyForm, new_key: str = "") -> HttpResponse:
    context = {
        "form": form,
        "keys": selectors.api_keys_for(organization=request.organization),
        "new_key": new_key,
        "history": (
            selectors.api_key_history(organization=request.organization)
            if request.membership.is_admin
            else None
        ),
    }
    return render(request, "integrations/api_keys.html", context)


@member_required
@never_cache
def api_key_list(request: MemberRequest) -> HttpResponse:
    return _page(request, form=form_after_failure(request, ApiKeyForm))


@admin_required
@require_POST
@never_cache  # the page that shows the new key is never kept by a cache
@sensitive_variables("key")
def api_key_create(request: MemberRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return redirect_after_failure(request, form, to=reverse("integrations:api_key_list"))
    _api_key, key = service.api_key_create(
        organization=request.organization, name=form.cleaned_data["name"], actor=request.user
    )
    # Shown on this answer only (not a redirect: the key never goes through the session).
    return _page(request, form=ApiKeyForm(), new_key=key)


@admin_required
@require_http_methods(["GET", "POST"])
def api_key_revoke(request: MemberRequest, prefix: str) -> HttpResponse:
    try:
        api_key = selectors.api_key_for(organization=request.organization, prefix=prefix)
    except OrganizationAPIKey.DoesNotExist:
        raise Http404("No such key") from None
    if api_key.revoked:
        return redirect("integrations:api_key_list")
    if request.method == "POST":
        if service.api_key_revoke(api_key=api_key, actor=request.user):
            messages.success(request, _("The key “%(name)s” was revoked.") % {"name": api_key.name})
        return redirect("integrations:api_key_list")
    return render(request, "integrations/api_key_revoke_confirm.html", {"api_key": api_key})
