"""Data tables: their head, and the table or its empty-state paragraph.

{% data_table keys testid="api-keys" empty=_("No API keys yet.") %}
  {% table_head _("Name") _("Status") actions=is_org_admin %}
  <tbody>{% for key in keys %}<tr>…</tr>{% endfor %}</tbody>
{% enddata_table %}
"""

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.inclusion_tag("_table_head.html")
def table_head(*columns: str, actions: bool = False) -> dict[str, Any]:
    """One column header per label, then a hidden "Actions" header when `actions`."""
    return {"columns": columns, "actions": actions}


@register.simple_block_tag
def data_table(
    content: str, items: Any, *, testid: str, empty: str, empty_class: str = "notice"
) -> SafeString:
    """The table (`content`: its head and rows) when there are `items`; else the `empty` words.

    A `table--cards` table, in a wrapper that scrolls sideways on a narrow screen.
    """
    if not items:
        return format_html('<p class="{}">{}</p>', empty_class, empty)
    return format_html(
        '<div class="table-wrap">\n<table class="table table--cards" data-testid="{}">{}</table>\n'
        "</div>",
        testid,
        content,
    )
