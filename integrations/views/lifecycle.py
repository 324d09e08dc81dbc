from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from portal.tenancy import admin_required

from ..models import Integration
from ..services.credentials_check import CheckResult, credentials_check

LEVELS = {
    CheckResult.ACCEPTED: messages.SUCCESS,
    CheckResult.REJECTED: messages.ERROR,
    CheckResult.UNREACHABLE: messages.WARNING,
    CheckResult.INCOMPLETE: messages.WARNING,
}


def _settings_url() -> str:
    try:
        return reverse("integrations:sage_settings")
    except NoReverseMatch:  # the settings page is built in parallel
        return reverse("integrations:accounting_list")


@admin_required
@require_POST
def credentials_check_view(request):
    """Ask Sage whether the chosen client ID and secret are accepted; say which."""
    integration = get_object_or_404(
        Integration.objects.for_org(request.organization), platform=Integration.Platform.SAGE
    )
    result = credentials_check(integration=integration, actor=request.user)
    messages.add_message(request, LEVELS[result], result.label)
    return redirect(_settings_url())
