"""Support's changes to one record in the admin, confirmed on a page that asks why.

The reason is recorded with the change (the services take it as `note`) and shown
to the organization. Nothing changes before the page is posted back with a reason:
Django's pattern for intermediate action pages, from the changelist's action and
from a button on the record's page alike.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from integrations.forms.support import SupportReasonForm


@dataclass(frozen=True)
class SupportAction:
    """A change support makes to one record, with a reason, through a confirmation page."""

    name: str  # the changelist action's name; its page is <object>/<slug>/
    slug: str
    permission: str  # has_<permission>_permission
    label: Any  # the button and the page's title
    question: Callable[[int], str]  # asked on the page, for a count
    applies: Callable[[Any], bool]  # whether the record can take it now
    run: Callable[..., bool]  # (obj, actor=, note=) -> whether it changed obj
    done: Callable[[int], str]  # "%(count)d ... done." for a count


class SupportActionAdmin(admin.ModelAdmin):
    """`support_action` from the change form's tools and the changelist, confirmed with a reason.

    Nothing changes before the confirmation page is posted back with a reason
    (Django's pattern for intermediate action pages).
    """

    support_action: SupportAction
    change_form_template = "admin/integrations/support_change_form.html"

    def _url_name(self, page: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{page.replace('-', '_')}"

    def get_urls(self):
        slug = self.support_action.slug
        view = self.admin_site.admin_view(self.support_action_view)
        page = path(f"<path:object_id>/{slug}/", view, name=self._url_name(slug))
        return [page, *super().get_urls()]

    def may_act(self, request) -> bool:
        return getattr(self, f"has_{self.support_action.permission}_permission")(request)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        action = self.support_action
        if obj is not None and self.may_act(request) and action.applies(obj):
            url = reverse(f"admin:{self._url_name(action.slug)}", args=[obj.pk])
            context["support_action"] = {"url": url, "label": action.label}
        return super().render_change_form(request, context, add, change, form_url, obj)

    def support_action_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.may_act(request):
            raise PermissionDenied
        if not self.support_action.applies(obj):  # done meanwhile, or never possible
            self.message_user(request, self.support_action.done(0) % {"count": 0}, messages.WARNING)
            return HttpResponseRedirect(self._change_url(obj))
        return self.confirm_support_action(request, [obj], one=obj)

    def _change_url(self, obj) -> str:
        return reverse(f"admin:{self._url_name('change')}", args=[obj.pk])

    def confirm_support_action(self, request, objects, *, one=None):
        """The confirmation page; on its valid POST, the change (then None or a redirect)."""
        action = self.support_action
        form = SupportReasonForm(request.POST if request.POST.get("post") else None)
        if form.is_valid():
            note = form.cleaned_data["reason"]
            done = sum(bool(action.run(obj, actor=request.user, note=note)) for obj in objects)
            level = messages.SUCCESS if done else messages.WARNING
            self.message_user(request, action.done(done) % {"count": done}, level)
            if one is None:
                return None  # back to the changelist
            return HttpResponseRedirect(self._change_url(one))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": action.label,
            "question": action.question(len(objects)),
            "objects": objects,
            "one": one,
            "form": form,
            "action_name": action.name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/integrations/support_action.html", context)
