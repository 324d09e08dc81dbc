"""The API routes: v3.1 under /v3.1, v3.0 under /v30 (accounts/v3 and core/v3)."""

from http import HTTPStatus
from urllib.parse import urlencode

from integrations.sage.sandbox.oauth import V30, V31
from integrations.sage.sandbox.protocol import error_array, json_response
from integrations.sage.sandbox.records import KINDS, parse_since

V30_PREFIXES = ("/v30/accounts/v3", "/v30/core/v3")
V30_HEADERS = ("Ocp-Apim-Subscription-Key", "X-Site", "X-Nonce", "X-Signature")
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200


def bearer(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def unauthorized():
    message = "The access token is missing, invalid or expired."
    return error_array(HTTPStatus.UNAUTHORIZED, "Unauthorized", message)


def not_found(what: str = "Record", source: str = ""):
    return error_array(HTTPStatus.NOT_FOUND, "RecordNotFound", f"{what} not found.", source)


def paginate(request, path: str, items: list):
    """Answer one page of `items` in Sage's envelope; $next/$back are paths with the query."""
    try:
        page = int(request.query.get("page", 1))
        per_page = int(request.query.get("items_per_page", DEFAULT_PER_PAGE))
    except ValueError:
        message = "page and items_per_page must be whole numbers."
        return error_array(HTTPStatus.BAD_REQUEST, "InvalidParameter", message, "page")
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    start = (page - 1) * per_page
    others = {k: v for k, v in request.query.items() if k not in ("page", "items_per_page")}

    def link(number: int) -> str:
        return f"{path}?{urlencode({'page': number, 'items_per_page': per_page, **others})}"

    return json_response(
        {
            "$total": len(items),
            "$page": page,
            "$next": link(page + 1) if start + per_page < len(items) else None,
            "$back": link(page - 1) if page > 1 else None,
            "$itemsPerPage": per_page,
            "$items": items[start : start + per_page],
        }
    )


def resource(sandbox, request, path: str, business: dict):
    """Answer GET `path` (relative to the API base) for one business."""
    parts = [part for part in path.split("/") if part]
    if parts == ["businesses"]:
        return paginate(request, "/businesses", sandbox.businesses)
    if parts == ["businesses", "lead"]:
        lead = sandbox.business(None)
        return json_response(lead) if lead else not_found("Business")
    if len(parts) == 2 and parts[0] == "businesses":
        found = sandbox.business(parts[1])
        return json_response(found) if found else not_found("Business")
    if parts == ["user"]:
        return json_response(sandbox.user)
    if parts and parts[0] in KINDS and len(parts) <= 2:
        if len(parts) == 2:
            found = sandbox.record(business, parts[0], parts[1])
            return json_response(found) if found else not_found()
        filters = {}
        for name, key in (
            ("updated_or_created_since", "updated_since"),
            ("deleted_since", "deleted_since"),
        ):
            if value := request.query.get(name):
                try:
                    filters[key] = parse_since(value)
                except ValueError:
                    message = f"{name} must be a date or a date-time."
                    return error_array(HTTPStatus.BAD_REQUEST, "InvalidParameter", message, name)
        return paginate(request, f"/{parts[0]}", sandbox.listing(business, parts[0], **filters))
    return error_array(HTTPStatus.NOT_FOUND, "RouteNotFound", "No such resource.")


def handle_v31(sandbox, request, path: str):
    if sandbox.access_token(bearer(request), V31) is None:
        return unauthorized()
    business_id = request.headers.get("X-Business")
    business = sandbox.business(business_id or None)
    if business is None:
        return not_found("Business", "X-Business")
    return resource(sandbox, request, path, business)


def handle_v30(sandbox, request, path: str):
    token = sandbox.access_token(bearer(request), V30)
    if token is None:
        return unauthorized()
    missing = [name for name in V30_HEADERS if not request.headers.get(name)]
    if missing:
        message = f"Missing header(s): {', '.join(missing)}."
        return error_array(HTTPStatus.UNAUTHORIZED, "MissingHeader", message, missing[0])
    if request.headers["X-Site"] != token.resource_owner_id:
        message = "X-Site does not match the token's resource owner."
        return error_array(HTTPStatus.FORBIDDEN, "Forbidden", message, "X-Site")
    business = sandbox.business(token.resource_owner_id)
    if business is None:
        return not_found("Business", "X-Site")
    return resource(sandbox, request, path, business)


def handle_api(sandbox, request):
    if request.method != "GET":
        return error_array(HTTPStatus.METHOD_NOT_ALLOWED, "MethodNotAllowed", "Only GET is served.")
    if request.path.startswith("/v3.1/"):
        return handle_v31(sandbox, request, request.path.removeprefix("/v3.1"))
    for prefix in V30_PREFIXES:
        if request.path.startswith(prefix + "/"):
            return handle_v30(sandbox, request, request.path.removeprefix(prefix))
    return error_array(HTTPStatus.NOT_FOUND, "RouteNotFound", "No such resource.")
