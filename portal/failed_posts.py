"""Post/Redirect/Get for a form that failed: its input and errors kept for the next GET.

A POST that fails validation answers 303 See Other to the page of the form, so that a
reload or the back button never asks to send the form again. What the page showed
survives the redirect: the values typed and every error under its field (those of a
service too, added with `add_error`), kept in the session for the next GET of that page
in the same organization, and used once.

A password input's value is never kept (client secrets, signing secrets, keys): it comes
back empty, as it would anyway; only the names of those that held a value are kept, so
that the page can ask to type them again. Files are not kept either.

Like allauth's statekit: views stash and pop typed values, never build session dicts.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponseRedirect, QueryDict

KEY_PREFIX = "failed_post"
# A value longer than its field's max_length is refused and never shown back (a 1 MB
# paste stays out of the session); a field without one (a choice, a box) holds short words.
SHORT_VALUE = 1_000

# {form prefix or "": {field name or NON_FIELD_ERRORS: [{"message": ..., "code": ...}]}}
Errors = dict[str, dict[str, list[dict[str, str]]]]


def _key(request: HttpRequest, path: str) -> str:
    """One stash per organization and page: another organization's page never shows it."""
    organization = getattr(request, "organization", None)
    return f"{KEY_PREFIX}:{organization.pk if organization else ''}:{path}"


def _is_secret(field: forms.Field) -> bool:
    return getattr(field.widget, "input_type", None) == "password"


@dataclass(frozen=True)
class FailedPost:
    """What a failed POST showed: its non-secret input, its errors by form, the secrets typed."""

    data: QueryDict
    errors: Errors
    typed_secrets: frozenset[str]

    def show_on(self, *forms_: forms.BaseForm) -> None:
        """Give each form (bound to `data`) the errors the POST had, without validating again:
        the same errors, a service's too, and no second DNS lookup or query on a GET."""
        for form in forms_:
            form.is_bound = False
            form.full_clean()  # an unbound form's errors start empty and nothing is validated
            form.is_bound = True
            form.cleaned_data = {}
            for field, items in self.errors.get(form.prefix or "", {}).items():
                for item in items:
                    error = ValidationError(item["message"], code=item["code"] or None)
                    form.add_error(None if field == NON_FIELD_ERRORS else field, error)


def redirect_after_failure(
    request: HttpRequest, *forms_: forms.BaseForm, to: str = ""
) -> HttpResponseRedirect:
    """Keep what `forms_` show for the next GET of `to` (default: this URL, with its query
    string) and answer 303 See Other to it."""
    to = to or request.get_full_path()
    data: dict[str, list[str]] = {}
    errors: Errors = {}
    typed_secrets: list[str] = []
    for form in forms_:
        for name, field in form.fields.items():
            html_name = form.add_prefix(name)
            if _is_secret(field):
                if any(request.POST.getlist(html_name)):
                    typed_secrets.append(html_name)
            elif not isinstance(field, forms.FileField) and html_name in request.POST:
                limit = getattr(field, "max_length", None) or SHORT_VALUE
                data[html_name] = [v for v in request.POST.getlist(html_name) if len(v) <= limit]
        errors[form.prefix or ""] = form.errors.get_json_data()
    request.session[_key(request, urlsplit(to).path)] = {
        "data": data,
        "errors": errors,
        "typed_secrets": typed_secrets,
    }
    return HttpResponseRedirect(to, status=303)


def failed_post_pop(request: HttpRequest) -> FailedPost | None:
    """The failed POST kept for this page and organization, once; None if there is none."""
    stashed = request.session.pop(_key(request, request.path), None)
    try:
        data = QueryDict(
            urlencode([(str(n), str(v)) for n, vs in stashed["data"].items() for v in vs])
        )
        errors: Errors = {
            str(prefix): {
                str(field): [
                    {"message": str(e["message"]), "code": str(e.get("code") or "")} for e in items
                ]
                for field, items in by_field.items()
            }
            for prefix, by_field in stashed["errors"].items()
        }
        typed_secrets = frozenset(str(n) for n in stashed.get("typed_secrets", ()))
    except (KeyError, TypeError, AttributeError):
        return None  # none kept, or kept by code that wrote another shape
    return FailedPost(data=data, errors=errors, typed_secrets=typed_secrets)


def form_after_failure[F: forms.BaseForm](
    request: HttpRequest, form_class: type[F], *, initial: dict[str, Any] | None = None
) -> F:
    """The page's form: the failed POST's input and errors once after a redirect, else an
    unbound form (with `initial`)."""
    failed = failed_post_pop(request)
    if failed is None:
        return form_class(initial=initial)
    form = form_class(failed.data, initial=initial)
    failed.show_on(form)
    return form
