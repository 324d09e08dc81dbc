from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .models import Membership
from .tenancy import SESSION_KEY, member_required, membership_required


@member_required
def home(request):
    return redirect("integrations:company_list")


# A member (not only an admin) of the current organization may switch to another one.
@require_POST
@membership_required
def switch_organization(request):
    """Make another of the user's organizations the current one."""
    membership = (
        Membership.objects.for_user(request.user)
        .select_related("organization")
        .filter(organization_id=request.POST.get("organization"))
        .first()
        if request.POST.get("organization", "").isdigit()
        else None
    )
    if membership is None:
        raise Http404("No such organization")
    request.session[SESSION_KEY] = membership.organization_id
    messages.success(
        request, _("You are now working in %(name)s.") % {"name": membership.organization.name}
    )
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = reverse("home")
    return HttpResponseRedirect(next_url)
