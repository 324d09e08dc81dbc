"""The authorize page: Approve or Deny, with a country select. Every reflected value is escaped."""

import secrets
from html import escape
from http import HTTPStatus

from integrations.sage.sandbox.data import COUNTRIES
from integrations.sage.sandbox.oauth import SIGN_IN_COUNTRIES
from integrations.sage.sandbox.protocol import Response, html_response

CSS = """
body { font: 16px/1.5 system-ui, sans-serif; background: #f2f5f3; color: #1b1f1d; margin: 0; }
main { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem;
       border-radius: 8px; box-shadow: 0 1px 4px rgba(0, 0, 0, .15); }
h1 { font-size: 1.3rem; margin-top: 0; color: #008a00; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
label { display: block; font-weight: 600; margin-top: 1rem; }
select { font: inherit; padding: .3rem; margin-top: .25rem; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
button { font: inherit; padding: .5rem 1.25rem; border-radius: 4px; border: 1px solid #008a00;
         background: #008a00; color: #fff; cursor: pointer; }
button.deny { background: #fff; color: #1b1f1d; border-color: #888; }
.error { color: #a40000; }
.hint { color: #555; font-size: .9rem; }
"""

# Parameters carried through the POST in hidden fields; `country` comes from the select.
CARRIED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "filter",
    "code_challenge",
    "code_challenge_method",
    "locale",
)


def page(title: str, body: str, status: int = HTTPStatus.OK) -> Response:
    nonce = secrets.token_urlsafe(16)
    csp = f"default-src 'none'; style-src 'nonce-{nonce}'; base-uri 'none'; frame-ancestors 'none'"
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(title)}</title><style nonce="{nonce}">{CSS}</style></head>'
        f"<body><main>{body}</main></body></html>"
    )
    headers = [
        ("Content-Security-Policy", csp),
        ("X-Frame-Options", "DENY"),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
    ]
    return html_response(html, status, headers)


def error_page(problems: list[str]) -> Response:
    items = "".join(f"<li>{escape(problem)}</li>" for problem in problems)
    body = (
        "<h1>Sage Accounting (sandbox)</h1>"
        f'<p class="error">This authorization request is invalid.</p><ul>{items}</ul>'
    )
    return page("Sage Accounting (sandbox): invalid request", body, HTTPStatus.BAD_REQUEST)


def consent_page(sandbox, query: dict) -> Response:
    # Without a `country` parameter the user picks one (as on Sage's sign-in page).
    wanted = (query.get("country") or "").upper()
    options = "" if wanted else '<option value="">Choose your country</option>'
    options += "".join(
        f'<option value="{code}"{" selected" if code == wanted else ""}>'
        f"{escape(COUNTRIES[code])} ({code})</option>"
        for code in SIGN_IN_COUNTRIES
    )
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(query[name])}">'
        for name in CARRIED
        if name in query
    )
    names = [escape(b["displayed_as"]) for b in sandbox.businesses]
    hint = (
        f"You will share {len(names)} business(es): {', '.join(names)}."
        if names
        else "This user has no business yet."
    )
    version = "v3.1" if query.get("filter") == "apiv3.1" else "v3.0"
    body = (
        "<h1>Sage Accounting (sandbox)</h1>"
        "<p>An application asks for access to your Sage Accounting data.</p>"
        f"<dl><dt>Client ID</dt><dd>{escape(query['client_id'])}</dd>"
        f"<dt>Scope</dt><dd>{escape(query.get('scope') or 'full_access')}</dd>"
        f"<dt>API</dt><dd>{version}</dd>"
        f"<dt>User</dt><dd>{escape(sandbox.user['email'])}</dd></dl>"
        f'<p class="hint">{hint}</p>'
        f'<form method="post">{hidden}'
        '<label for="country">Country</label>'
        f'<select id="country" name="country">{options}</select><div class="actions">'
        '<button type="submit" name="decision" value="approve">Approve</button>'
        '<button type="submit" name="decision" value="deny" class="deny">Deny</button></div>'
        "</form>"
    )
    return page("Sage Accounting (sandbox)", body)


def handle_authorize(sandbox, request) -> Response:
    if request.method == "GET":
        problems = sandbox.authorize_problems(request.query)
        return error_page(problems) if problems else consent_page(sandbox, request.query)
    if request.method != "POST":
        return error_page(["Use GET or POST."])
    form = dict(request.form)
    decision = form.pop("decision", "")
    country = form.pop("country", "")
    query = {**request.query, **form}
    query.pop("country", None)
    try:
        if decision == "approve":
            location = sandbox.approve(query, country=country)
        elif decision == "deny":
            location = sandbox.deny(query)
        else:
            return error_page(["Choose Approve or Deny."])
    except ValueError as error:
        return error_page([str(error)])
    headers = [("Location", location), ("Cache-Control", "no-store")]
    return Response(HTTPStatus.FOUND, b"", "text/html; charset=utf-8", headers)
