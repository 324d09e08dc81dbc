"""Settings › Webhooks: the organization's endpoints, their signing secret and delivery log.

Members read; admins add, change, rotate, delete, send a test event and resend. A
signing secret is shown once, on the answer that creates it (never through a redirect
or the session).
"""

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from integrations.webhooks import selectors
from integrations.webhooks import services as service
from integrations.webhooks.forms import WebhookEndpointForm
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks.worker import webhooks_wait_for_a_worker
from portal.failed_posts import form_after_failure, redirect_after_failure
from portal.organizations.tenancy import MemberRequest, admin_required, member_required


def _endpoint(request: MemberRequest, pk: UUID) -> WebhookEndpoint:
    try:
        return selectors.webhook_endpoint_for(organization=request.organization, pk=pk)
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such endpoint") from None


def _initial(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"url": endpoint.url, "events": endpoint.events, "enabled": endpoint.enabled}


def _form_values(form: WebhookEndpointForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in ("url", "events", "enabled")}


@member_required
@never_cache
def webhook_list(request: MemberRequest) -> HttpResponse:
    organization = request.organization
    context = {
        "endpoints": selectors.webhook_endpoints_for(organization=organization),
        "history": (
            selectors.webhook_history(organization=organization)
            if request.membership.is_admin
            else None
        ),
        "no_worker": webhooks_wait_for_a_worker(organization=organization),
    }
    return render(request, "integrations/webhooks/list.html", context)


@admin_required
@require_http_methods(["GET", "POST"])
@never_cache  # the answer that shows the new secret is never kept by a cache
@sensitive_variables("secret")
def webhook_create(request: MemberRequest) -> HttpResponse:
    if request.method == "GET":
        form = form_after_failure(request, WebhookEndpointForm)
        return render(request, "integrations/webhooks/create.html", {"form": form})
    form = WebhookEndpointForm(request.POST)
    if not form.is_valid():
        return redirect_after_failure(request, form)
    endpoint, secret = service.webhook_endpoint_create(
        organization=request.organization, actor=request.user, **_form_values(form)
    )
    return _detail(request, endpoint, new_secret=secret)


def _detail(
    request: MemberRequest,
    endpoint: WebhookEndpoint,
    *,
    form: WebhookEndpointForm | None = None,
    new_secret: str = "",
) -> HttpResponse:
    if form is None:
        form = WebhookEndpointForm(initial=_initial(endpoint))
    context = {
        "endpoint": endpoint,
        "form": form,
        "new_secret": new_secret,
        "deliveries": selectors.webhook_deliveries_for(endpoint=endpoint),
        "pending": WebhookDelivery.State.PENDING,
    }
    return render(request, "integrations/webhooks/detail.html", context)


@member_required
@never_cache
def webhook_detail(request: MemberRequest, pk: UUID) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    if request.method == "POST":  # member_required lets only admins POST
        form = WebhookEndpointForm(request.POST)
        if not form.is_valid():
            return redirect_after_failure(request, form)
        service.webhook_endpoint_update(endpoint=endpoint, actor=request.user, **_form_values(form))
        messages.success(request, _("The endpoint was saved."))
        return redirect("integrations:webhook_detail", endpoint.pk)
    # After a refused save, what was typed and why it was refused (once); else the endpoint.
    form = form_after_failure(request, WebhookEndpointForm, initial=_initial(endpoint))
    return _detail(request, endpoint, form=form)


@admin_required
@require_http_methods(["GET", "POST"])
@never_cache
@sensitive_variables("secret")
def webhook_rotate(request: MemberRequest, pk: UUID) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    if request.method == "POST":
        secret = service.webhook_secret_rotate(endpoint=endpoint, actor=request.user)
        return _detail(request, endpoint, new_secret=secret)
    return render(request, "integrations/webhooks/rotate_confirm.html", {"endpoint": endpoint})


@admin_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: MemberRequest, pk: UUID) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    if request.method == "POST":
        service.webhook_endpoint_delete(endpoint=endpoint, actor=request.user)
        messages.success(request, _("The endpoint %(url)s was deleted.") % {"url": endpoint.url})
        return redirect("integrations:webhook_list")
    return render(request, "integrations/webhooks/delete_confirm.html", {"endpoint": endpoint})


@admin_required
@require_POST
def webhook_test(request: MemberRequest, pk: UUID) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    if not endpoint.enabled:
        messages.error(request, _("Enable the endpoint before sending it a test event."))
    else:
        service.webhook_send_test(endpoint=endpoint)
        messages.success(request, _("A test event was sent; its delivery is in the log below."))
    return redirect("integrations:webhook_detail", endpoint.pk)


@admin_required
@require_POST
def webhook_resend(request: MemberRequest, pk: UUID, delivery_pk: UUID) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    delivery = endpoint.deliveries.filter(pk=delivery_pk).first()
    if delivery is None:
        raise Http404("No such delivery")
    if not endpoint.enabled:
        messages.error(request, _("Enable the endpoint before resending an event."))
    elif service.webhook_resend(delivery=delivery):
        messages.success(request, _("The event was sent again, with the same message ID."))
    else:
        messages.info(request, _("This event is still being delivered: its next try is planned."))
    return redirect("integrations:webhook_detail", endpoint.pk)
