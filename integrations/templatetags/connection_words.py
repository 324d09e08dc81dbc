"""A history entry in the one state vocabulary: what it did and who acted."""

from django import template

from integrations.connections import states
from integrations.models import HistoryEvent

register = template.Library()


@register.filter
def event_what(event: HistoryEvent) -> str:
    """The event's kind; for a connection's lifecycle, the word of the state it led to."""
    return states.event_what(event)


@register.filter
def event_who(event: HistoryEvent) -> str:
    """Who acted: a user, an API key, the customer, Sage, support or the portal."""
    return states.event_who(event)
