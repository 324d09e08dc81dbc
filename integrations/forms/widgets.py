"""Widgets that do not send back what no field would accept."""

from django import forms


class BoundedTextInput(forms.TextInput):
    """A text input that leaves out a value longer than its field's max_length.

    A 1 MB paste is refused by the field; rendering it back would send the megabyte
    again with the error (and keep it in the page's history).
    """

    def format_value(self, value):
        value = super().format_value(value)
        limit = self.attrs.get("maxlength")
        if value is not None and limit is not None and len(value) > int(limit):
            return None
        return value
