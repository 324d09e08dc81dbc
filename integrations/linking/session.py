"""The link flow's state in the customer's session: the browser secret, the outcome, the choice.

The outcome and the choice are what the link services return (`services.link_callback`).

Like allauth's statekit: views stash and pop typed values, never build session dicts.
"""

import secrets
from dataclasses import asdict

from integrations.linking.callback import BusinessChoice, LinkOutcome, Result
from integrations.linking.outcomes import Notice

BROWSER_KEY = "sage_link_browser"
OUTCOME_KEY = "sage_link_outcome"
CHOICE_KEY = "sage_link_choice"


def browser_secret(request) -> str:
    """Return this browser's secret, made on first use; its hash binds the OAuth state."""
    return request.session.setdefault(BROWSER_KEY, secrets.token_urlsafe(32))


def peek_browser_secret(request) -> str | None:
    return request.session.get(BROWSER_KEY)


def stash_outcome(request, outcome: LinkOutcome) -> None:
    request.session[OUTCOME_KEY] = asdict(outcome)


def peek_outcome(request) -> LinkOutcome | None:
    """The outcome stashed by the callback, or None (none, or one this code cannot read)."""
    stashed = request.session.get(OUTCOME_KEY)
    try:
        return LinkOutcome(
            result=Result(stashed["result"]),
            notice=Notice(stashed["notice"]),
            company=str(stashed["company"]),
            token=str(stashed.get("token", "")),
            business=str(stashed.get("business", "")),
            organization=int(stashed.get("organization") or 0),
            way_back=str(stashed.get("way_back", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def stash_choice(request, choice: BusinessChoice) -> None:
    request.session[CHOICE_KEY] = {
        "connection": choice.connection,
        "businesses": [list(b) for b in choice.businesses],
        "way_back": choice.way_back,
    }


def peek_choice(request) -> BusinessChoice | None:
    stashed = request.session.get(CHOICE_KEY)
    try:
        businesses = tuple((str(i), str(n)) for i, n in stashed["businesses"])
        return BusinessChoice(
            connection=str(stashed["connection"]),
            businesses=businesses,
            way_back=str(stashed.get("way_back", "")),
        )
    except (KeyError, TypeError, ValueError):
        return None


def pop_choice(request) -> BusinessChoice | None:
    choice = peek_choice(request)
    request.session.pop(CHOICE_KEY, None)
    return choice
