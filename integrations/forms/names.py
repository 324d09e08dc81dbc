"""Cleaning shared by the forms' name fields."""

from django import forms
from django.utils.translation import gettext_lazy as _


def printable_name(value: str) -> str:
    """`value` with runs of whitespace collapsed; ValidationError if it is not printable.

    Collapsing makes "Acme  Ltd" and "Acme Ltd" read the same.
    """
    name = " ".join(value.split())
    if not name.isprintable():
        raise forms.ValidationError(
            _("Use only printable characters in the name."), code="not_printable"
        )
    return name
