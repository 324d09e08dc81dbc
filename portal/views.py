from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .models import Membership
from .redirects import local_path_or
from .tenancy import SESSION_KEY, member_required, membership_required


def _is_id(value: str) -> bool:
    # ASCII digits only ("²" is a digit to str.isdigit(), not to the database), and
    # few enough of them to fit a 64-bit integer column.
    return value.isascii() and value.isdecimal() and len(value) <= 18


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
        if _is_id(request.POST.get("organization", ""))
        else None
    )
    if membership is None:
        raise Http404("No such organization")
    request.session[SESSION_KEY] = membership.organization_id
    messages.success(
        request, _("You are now working in %(name)s.") % {"name": membership.organization.name}
    )
    return HttpResponseRedirect(local_path_or(request, request.POST.get("next"), reverse("home")))
