"""The accounting integrations page and Sage's settings: credentials, check, enable, toggle."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from integrations import accounting
from integrations.configuration import services as service
from integrations.configuration.check import (
    NewKeysRejected,
    credentials_check,
    credentials_save_checked,
)
from integrations.configuration.forms import CredentialsForm, ToggleForm
from integrations.configuration.redirect_url_form import RedirectUrlForm
from integrations.configuration.services import (
    IntegrationNotReady,
    KeysRejected,
    RelinkNotConfirmed,
)
from integrations.linking.services import callback_url
from integrations.linking.way_back import integration_redirect_url_set
from integrations.models import CredentialSet, Integration
from integrations.selectors import (
    credential_cards,
    credentials_rejected_at,
    integration_for,
    integration_history,
    integration_state,
    integration_summary_for,
    integration_support_notice,
    keys_check,
    linked_counts,
)
from integrations.sync.forms import SyncScheduleForm
from portal.failed_posts import failed_post_pop, redirect_after_failure
from portal.organizations.models import Membership
from portal.organizations.tenancy import MemberRequest, admin_required, member_required
from portal.redirects import local_path_or

OFFER_ENABLE_KEY = "sage_offer_enable"
HISTORY_LIMIT = 20


def _not_ready_message(error: IntegrationNotReady) -> str:
    return _("Sage Accounting cannot be enabled: %(fields)s missing.") % {
        "fields": ", ".join(error.missing)
    }


@member_required
def accounting_list(request: MemberRequest) -> HttpResponse:
    integration = integration_summary_for(organization=request.organization)
    return render(
        request,
        "integrations/accounting_list.html",
        {
            "integration": integration,
            "state": integration_state(integration),
            "support_notice": integration_support_notice(integration=integration),
            "check": keys_check(integration),
        },
    )


# The message a check leaves on the page, by what Sage said (or why it was not asked).
CHECK_MESSAGES = {
    CredentialSet.Check.ACCEPTED: (
        messages.SUCCESS,
        gettext_lazy("Sage accepted this client ID and secret."),
    ),
    CredentialSet.Check.REJECTED: (
        messages.ERROR,
        gettext_lazy("Sage rejected this client ID or secret."),
    ),
    CredentialSet.Check.UNREACHABLE: (
        messages.WARNING,
        gettext_lazy("Sage could not be reached; try again in a few minutes."),
    ),
    CredentialSet.Check.INCOMPLETE: (
        messages.WARNING,
        gettext_lazy("Save the client ID and secret before checking them."),
    ),
    CredentialSet.Check.UNREADABLE: (
        messages.ERROR,
        gettext_lazy(
            "The stored secrets cannot be read with the current encryption keys: enter the "
            "client secret again and save, or restore the key that encrypted them."
        ),
    ),
}


# After a save, one message: saved, and what Sage said about the keys.
SAVED = {
    CredentialSet.Check.ACCEPTED: gettext_lazy(
        "Settings saved. Sage accepted this client ID and secret."
    ),
    CredentialSet.Check.REJECTED: gettext_lazy(
        "Settings saved, but Sage rejected this client ID or secret: new links will fail "
        "until the keys are fixed."
    ),
    CredentialSet.Check.UNREACHABLE: gettext_lazy(
        "Settings saved. Sage could not be reached to check the keys; use Check credentials "
        "in a few minutes."
    ),
}


def _save(request: MemberRequest, form: CredentialsForm) -> HttpResponse | None:
    """Save the form's keys, ask Sage about them and redirect; None if the page must show errors."""
    try:
        result, checked = credentials_save_checked(
            organization=request.organization, actor=request.user, **form.cleaned_data
        )
    except NewKeysRejected:
        form.keys_rejected()
        return None
    except RelinkNotConfirmed:
        form.chosen.add_error("client_id", _("Confirm that the companies will relink."))
        return None
    except IntegrationNotReady as error:
        form.chosen.add_error(None, _not_ready_message(error))
        return None
    level, said = CHECK_MESSAGES[checked]
    messages.add_message(request, level, SAVED.get(checked) or f"{_('Settings saved.')} {said}")
    if not result.integration.enabled:
        request.session[OFFER_ENABLE_KEY] = True
    return redirect("integrations:integration_settings")


@sensitive_post_parameters()
@member_required
def integration_settings(request: MemberRequest) -> HttpResponse:
    integration = integration_for(organization=request.organization)
    counts = linked_counts(integration=integration)
    is_admin = request.membership.is_admin
    context: dict[str, Any] = {
        "integration": integration,
        "state": integration_state(integration),
        "support_notice": integration_support_notice(integration=integration),
        "cards": credential_cards(integration=integration),
        "callback_url": callback_url(),
        "redirect_url_form": RedirectUrlForm(
            initial={"redirect_url": integration.redirect_url if integration else ""}
        ),
        "developer_portal_url": settings.SAGE_DEVELOPER_PORTAL_URL,
    }
    if integration is not None:
        context["sync_schedule_form"] = SyncScheduleForm.showing(integration)
        context["sync_schedule_label"] = Integration.SyncInterval.label_of(
            integration.sync_interval
        )
    if not is_admin:
        context["admin_emails"] = Membership.objects.admin_emails(request.organization)
        return render(request, "integrations/settings/sage_summary.html", context)
    if request.method == "POST":
        form = CredentialsForm(request.POST, integration=integration, linked_counts=counts)
        if form.is_valid() and (response := _save(request, form)):
            return response
        # Refused (by the form or by Sage): the same page again, through a GET.
        return redirect_after_failure(request, form.choice, form.chosen)
    failed = failed_post_pop(request)
    form = CredentialsForm(
        failed.data if failed else None, integration=integration, linked_counts=counts
    )
    if failed:
        form.show_failure(failed)
    offer_enable = request.method == "GET" and request.session.pop(OFFER_ENABLE_KEY, False)
    chosen = integration.chosen_credential_set() if integration else None
    history = integration_history(
        integration=integration, limit=HISTORY_LIMIT, page=request.GET.get("page")
    )
    context.update(
        {
            "deprecated_version": accounting.LEGACY_VERSION,
            "form": form,
            "linked_counts": counts,
            "can_check": chosen is not None and chosen.is_complete,
            "keys_rejected": chosen is not None and chosen.keys_rejected,
            "offer_enable": offer_enable and integration is not None,
            "rejected_at": credentials_rejected_at(integration=integration),
            "history": history,
            "history_previous": (
                history.previous_page_number() if history and history.has_previous() else None
            ),
            "history_next": history.next_page_number() if history and history.has_next() else None,
            # Once keys are saved, the setup steps fold ("Change keys" opens them); a
            # posted form (with its errors), or keys Sage rejected, keep them open.
            "steps_open": (
                not context["cards"]
                or form.data is not None
                or (chosen is not None and chosen.keys_rejected)
            ),
        }
    )
    return render(request, "integrations/settings/sage.html", context)


def _confirm_toggle(
    request: MemberRequest, integration: Integration, *, enable: bool, next_url: str
) -> HttpResponse:
    """The page that asks before a disable, or before enabling keys Sage rejected."""
    return render(
        request,
        "integrations/settings/toggle_confirm.html",
        {"integration": integration, "enable": enable, "next": next_url},
    )


@require_POST
@admin_required
def integration_toggle(request: MemberRequest, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration.objects.for_org(request.organization), pk=pk)
    form = ToggleForm(request.POST)
    form.is_valid()  # lone booleans: anything but "true" (or "1", "on") reads as False
    confirmed = form.cleaned_data.get("confirmed", False)
    default = reverse("integrations:accounting_list")
    next_url = local_path_or(request, request.POST.get("next"), default)
    if form.cleaned_data.get("enabled"):
        try:
            if service.integration_enable(
                integration=integration, actor=request.user, keys_rejected_confirmed=confirmed
            ):
                messages.success(request, _("Sage Accounting is enabled."))
        except KeysRejected:
            return _confirm_toggle(request, integration, enable=True, next_url=next_url)
        except IntegrationNotReady as error:
            messages.error(request, _not_ready_message(error))
    elif integration.enabled and not confirmed:
        return _confirm_toggle(request, integration, enable=False, next_url=next_url)
    elif service.integration_disable(integration=integration, actor=request.user):
        messages.success(request, _("Sage Accounting is disabled."))
    return HttpResponseRedirect(next_url)


@admin_required
def integration_enable(request: MemberRequest) -> HttpResponse:
    integration = integration_for(organization=request.organization)
    if request.method == "POST":
        if integration is None:
            messages.error(request, _("Set up Sage Accounting before enabling it."))
            return redirect("integrations:integration_settings")
        form = ToggleForm(request.POST)
        form.is_valid()
        try:
            service.integration_enable(
                integration=integration,
                actor=request.user,
                keys_rejected_confirmed=form.cleaned_data.get("confirmed", False),
            )
        except KeysRejected:
            return redirect("integrations:integration_enable")  # this page asks again, with why
        except IntegrationNotReady as error:
            messages.error(request, _not_ready_message(error))
            return redirect("integrations:integration_settings")
        messages.success(request, _("Sage Accounting is enabled."))
        return redirect("integrations:accounting_list")
    chosen = integration.chosen_credential_set() if integration else None
    return render(
        request,
        "integrations/settings/enable.html",
        {
            "integration": integration,
            "keys_rejected": chosen is not None and chosen.keys_rejected,
            "missing": [
                CredentialSet.field_label(n)
                for n in service.integration_missing_fields(integration=integration)
            ],
        },
    )


@admin_required
@require_POST
def credentials_check_view(request: MemberRequest) -> HttpResponse:
    """Ask Sage whether the chosen client ID and secret are accepted; say which."""
    integration = get_object_or_404(
        Integration.objects.for_org(request.organization), platform=Integration.Platform.SAGE
    )
    result = credentials_check(integration=integration, actor=request.user)
    messages.add_message(request, *CHECK_MESSAGES[result])
    return redirect("integrations:integration_settings")


@admin_required
@require_POST
def integration_redirect_url(request: MemberRequest) -> HttpResponse:
    """Save where customers go after linking; a refused URL is shown again with why."""
    integration = get_object_or_404(
        Integration.objects.for_org(request.organization), platform=Integration.Platform.SAGE
    )
    form = RedirectUrlForm(request.POST, organization=request.organization)
    if not form.is_valid():
        context = {"integration": integration, "redirect_url_form": form}
        return render(request, "integrations/settings/redirect_url.html", context, status=400)
    url = form.cleaned_data["redirect_url"]
    if integration_redirect_url_set(integration=integration, redirect_url=url, actor=request.user):
        messages.success(request, _("Redirect URL saved.") if url else _("Redirect URL removed."))
    return redirect(reverse("integrations:integration_settings") + "#redirect-url")
