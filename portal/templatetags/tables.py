"""The head of a data table: `{% table_head _("Name") _("Status") actions=is_org_admin %}`."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("_table_head.html")
def table_head(*columns: str, actions: bool = False) -> dict[str, Any]:
    """One column header per label, then a hidden "Actions" header when `actions`."""
    return {"columns": columns, "actions": actions}
