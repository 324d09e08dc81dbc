"""A form renderer that writes `<input>` tags without the template engine.

Django renders every widget through a template (`input.html` including
`attrs.html`), which costs about a tenth of a millisecond per input: the
settings page alone has nine. The markup here is exactly what those templates
produce (tests/test_forms_rendering.py compares the two for every input type
the project uses). Other widgets are left to Django's templates. An override of
one of the input templates below would be bypassed: the project has none.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import format_html

# The templates Django renders an input widget with: input.html, through one include or two.
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("text", "password", "email", "search", "hidden", "checkbox", "radio_option")
)


def input_tag(widget: dict) -> str:
    """`<input>` with its attributes, as django/forms/widgets/input.html writes it."""
    html = format_html('<input type="{}" name="{}"', widget["type"], widget["name"])
    if widget["value"] is not None:
        html += format_html(' value="{}"', str(widget["value"]))
    for name, value in widget["attrs"].items():
        if value is True:
            html += format_html(" {}", name)
        elif value is not False:
            html += format_html(' {}="{}"', name, str(value))
    return format_html("{}>", html)


class FastInputRenderer(DjangoTemplates):
    """Django's default renderer, but `<input>` widgets are formatted in Python."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if template_name not in INPUT_TEMPLATES or widget is None or widget.get("wrap_label"):
            return super().render(template_name, context, request)
        return input_tag(widget)
