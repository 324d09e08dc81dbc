"""One way to show a moment on every page: `{{ value|when }}`.

`<time datetime="2026-11-30T17:14:00+00:00">30 Nov 2026, 17:14</time>`, in the reader's
language and the current time zone (portal/formats: a 24-hour clock in both languages).
"""

from datetime import datetime

from django import template
from django.template.defaultfilters import date
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


@register.filter
def when(value: datetime | None, default: str = "—") -> str:
    """The moment as a <time> element, or `default` without one."""
    if not value:
        return default
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}">{}</time>', local.isoformat(), date(local, "DATETIME_FORMAT")
    )
