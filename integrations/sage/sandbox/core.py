"""SageSandbox: a Sage Accounting stand-in as a WSGI app, all state in memory."""

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TypedDict

from integrations.sage.sandbox import data, records
from integrations.sage.sandbox.api import handle_api
from integrations.sage.sandbox.authorize import handle_authorize
from integrations.sage.sandbox.oauth import OAuthState
from integrations.sage.sandbox.protocol import (
    RecordedRequest,
    Response,
    error_array,
    html_response,
    json_response,
    oauth_error,
    read_request,
)
from integrations.sage.sandbox.token import handle_revoke, handle_token

logger = logging.getLogger(__name__)

STATS_PATH = "/_sandbox/stats"

FAULT_ROUTES = ("authorize", "token", "v30_token", "revoke", "api")
# The routes `latency` delays: Sage's token endpoints and its API (not the authorize page).
DELAYED_ROUTES = ("token", "v30_token", "revoke", "api")
FAULT_KINDS = (
    "status_500",
    "html",
    "malformed_json",
    "slow",
    "status_429",
    "invalid_grant",
    "redirect",
    "error_array",
)


@dataclass
class Fault:
    kind: str
    times: int
    options: dict = field(default_factory=dict)
    # Only the requests it accepts meet this fault (None: any request of the route).
    when: Callable[[RecordedRequest], bool] | None = None


def route_of(path: str) -> str:
    """Name the route a path belongs to, as fail_next() and RecordedRequest.route spell it."""
    exact = {
        "/oauth2/auth/central": "authorize",
        "/token": "token",
        "/v30/token": "v30_token",
        "/revoke": "revoke",
    }
    if path in exact:
        return exact[path]
    if path.startswith(("/v3.1/", "/v30/")):
        return "api"
    return ""


def fault_response(fault: Fault) -> Response:
    options = fault.options
    if fault.kind == "status_500":
        return Response(HTTPStatus.INTERNAL_SERVER_ERROR, b"Internal Server Error", "text/plain")
    if fault.kind == "html":
        page = "<!doctype html><title>Sage</title><h1>Service temporarily unavailable</h1>"
        return html_response(page, options.get("status", HTTPStatus.OK))
    if fault.kind == "malformed_json":
        body = b'{"access_token": "truncated", "expires_in": '
        return Response(options.get("status", HTTPStatus.OK), body, "application/json")
    if fault.kind == "status_429":
        response = error_array(HTTPStatus.TOO_MANY_REQUESTS, "TooManyRequests", "Rate limited.")
        response.headers.append(("Retry-After", str(options.get("retry_after", 1))))
        return response
    if fault.kind == "invalid_grant":
        message = options.get("message", "The grant is invalid or expired.")
        return oauth_error("invalid_grant", message)
    if fault.kind == "redirect":
        location = options.get("location", "http://attacker.invalid/collect")
        return Response(
            options.get("status", HTTPStatus.FOUND), b"", "text/html", [("Location", location)]
        )
    return error_array(
        options.get("status", HTTPStatus.BAD_REQUEST),
        options.get("data_code", "RecordInvalid"),
        options.get("message", "The request could not be processed."),
        options.get("source", ""),
    )


class _Initial(TypedDict):
    """What SageSandbox() was given: reset() goes back to it."""

    open_registration: bool
    now: Callable[[], float]
    businesses: int
    redirect_uris: tuple[str, ...] | None


def _fault_applies(fault: "Fault", request: RecordedRequest) -> bool:
    """Whether `fault` applies to `request`: any, unless it names a resource (`path=`,
    e.g. "contacts") or was given a `when` test (e.g. one page of one list)."""
    if fault.when is not None and not fault.when(request):
        return False
    resource = fault.options.get("path")
    if not resource:
        return True
    return request.path.rstrip("/").endswith(f"/{resource}")


class SageSandbox(OAuthState):
    """Serve Sage's OAuth and API routes from memory (see docs/sandbox.md)."""

    url: str | None = None  # set by whoever serves it (the test fixture, serve_in_thread)

    def __init__(
        self,
        *,
        open_registration: bool = True,
        now: Callable[[], float] = time.time,
        businesses: int = 1,
        redirect_uris: Iterable[str] | None = None,
    ):
        self._lock = threading.RLock()
        self._initial: _Initial = {
            "open_registration": open_registration,
            "now": now,
            "businesses": businesses,
            "redirect_uris": tuple(redirect_uris) if redirect_uris is not None else None,
        }
        self.reset()

    def reset(self) -> None:
        """Forget everything: clients, codes, tokens, requests, faults, the clock offset."""
        with self._lock:
            self.clients = {}
            self.open_registration = self._initial["open_registration"]
            self.redirect_uris = self._initial["redirect_uris"]
            self.clock: Callable[[], float] = self._initial["now"]
            self._offset = 0.0
            self.code_lifetime = 60
            self.access_token_lifetime = 300
            self.v30_access_token_lifetime = 3600
            self.refresh_token_lifetime = 2678400
            self.refresh_without_new_refresh_token = False
            self.token_answer_overrides: dict[str, object] = {}
            self.user = data.make_user()
            self._codes, self._access, self._refresh = {}, {}, {}
            self._spent: set[str] = set()  # refresh tokens rotated away by a refresh
            self.refreshes = 0  # refresh grants answered with new tokens
            self.refresh_double_spends = 0  # refreshes presenting an already spent token
            self._requests: list[RecordedRequest] = []
            self._faults: dict[str, list[Fault]] = {}
            self._api_in_flight = 0
            self.max_api_in_flight = 0  # the most API requests served at the same time
            # Seconds × requests in flight (over a window: the mean number in flight).
            self.api_in_flight_seconds = 0.0
            self._api_in_flight_at = time.monotonic()
            self.api_requests = 0  # API requests received (faulted ones included)
            self._counts: dict[str, int] = {}  # kind -> records generated per business
            # Injected latency: every request to a DELAYED_ROUTES route waits this many
            # seconds (outside the lock) before it is handled, as a far Sage would;
            # `delayed` counts the requests that waited. `sleep` is replaceable by tests.
            self.latency = 0.0
            self.delayed = 0
            self.sleep: Callable[[float], None] = time.sleep
            self.set_businesses(self._initial["businesses"])

    def restrict_redirect_uris(self, redirect_uris: Iterable[str]) -> None:
        """Accept only these redirect URIs at the authorize page, also after reset()."""
        with self._lock:
            self._initial["redirect_uris"] = tuple(redirect_uris)
            self.redirect_uris = self._initial["redirect_uris"]

    def now(self) -> float:
        """Return the sandbox's time: its clock plus whatever advance() added."""
        return self.clock() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def set_businesses(self, n: int, *, countries: list[str] | None = None) -> list[dict]:
        """Replace the businesses with `n` generated ones (the first is the lead business)."""
        with self._lock:
            countries = countries or ["GB"] * n
            self.businesses = [data.make_business(i, country=countries[i]) for i in range(n)]
            self._records: dict[tuple[str, str], records.RecordSet] = {}
            return self.businesses

    def business(self, business_id: str | None) -> dict | None:
        """Return the business with this id, or the lead business for None."""
        with self._lock:
            if business_id is None:
                return self.businesses[0] if self.businesses else None
            return next((b for b in self.businesses if b["id"] == business_id), None)

    def record_set(self, business: dict, kind: str) -> records.RecordSet:
        """The records of one type of a business (generated on first use)."""
        with self._lock:
            key = (business["id"], kind)
            if key not in self._records:
                count = self._counts.get(kind, records.default_count(kind))
                self._records[key] = records.RecordSet(records.maker(kind, business), count)
            return self._records[key]

    def materialize(self) -> int:
        """Make every generated record of every business now, once, rather than on each
        request: a page then costs the sandbox what a far Sage's costs the portal's
        machine, the answer's encoding and nothing more (the benchmark shares its cores).
        The records are the same; returns how many were made."""
        made = 0
        with self._lock:
            for business in self.businesses:
                for kind in records.KINDS:
                    record_set = self.record_set(business, kind)
                    record_set.generated = list(record_set.generated)
                    made += len(record_set.generated)
        return made

    def listing(self, business: dict, kind: str, **filters) -> "Sequence[dict]":
        """What a list of `kind` answers (records.RecordSet.listing's filters)."""
        with self._lock:
            return self.record_set(business, kind).listing(**filters)

    def record(self, business: dict, kind: str, item_id: str) -> dict | None:
        with self._lock:
            return self.record_set(business, kind).get(item_id)

    def items(self, business: dict, kind: str) -> list[dict]:
        """Return the live records of one type of a business, in list order."""
        with self._lock:
            return list(self.record_set(business, kind).all())

    def seed(self, kind: str, count: int) -> None:
        """Give every business `count` generated records of `kind` (the benchmark's 2,000)."""
        if kind not in records.KINDS:
            raise ValueError(f"Unknown kind {kind!r}; one of {records.KINDS}")
        with self._lock:
            self._counts[kind] = count
            for key in [key for key in self._records if key[1] == kind]:
                del self._records[key]

    def _business_or_lead(self, business_id: str | None) -> dict:
        found = self.business(business_id)
        if found is None:
            raise KeyError(business_id)
        return found

    def create_record(self, kind: str, business_id: str | None = None, **fields) -> dict:
        """Add a record of `kind` to a business (the lead one by default), created now."""
        with self._lock:
            business = self._business_or_lead(business_id)
            record_set = self.record_set(business, kind)
            number = len(record_set.created) + 1
            now = records.sage_time(self.now())
            return record_set.create(records.new_record(kind, business, number, fields, now))

    def update_record(self, kind: str, item_id: str, business_id: str | None = None, **fields):
        """Change a record's fields; its `updated_at` becomes now. KeyError if unknown."""
        with self._lock:
            business = self._business_or_lead(business_id)
            now = records.sage_time(self.now())
            return self.record_set(business, kind).update(item_id, fields, now)

    def delete_record(self, kind: str, item_id: str, business_id: str | None = None) -> dict:
        """Delete a record: lists no longer show it, `deleted_since` does from now."""
        with self._lock:
            business = self._business_or_lead(business_id)
            now = records.sage_time(self.now())
            return self.record_set(business, kind).delete(item_id, now)

    def list_requests(self, kind: str | None = None) -> list[RecordedRequest]:
        """The API requests that listed records (of one type if given), v3.1 and v3.0."""
        kinds = (kind,) if kind else records.KINDS
        return [
            r
            for r in self.requests
            if r.route == "api" and r.path.rstrip("/").rsplit("/", 1)[-1] in kinds
        ]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def token_requests(self, grant_type: str | None = None) -> list[RecordedRequest]:
        """Return the requests that reached /token or /v30/token (of one grant type if given)."""
        return [
            r
            for r in self.requests
            if r.route in ("token", "v30_token")
            and (grant_type is None or r.form.get("grant_type") == grant_type)
        ]

    def fail_next(
        self,
        route: str,
        kind: str,
        times: int = 1,
        *,
        when: Callable[[RecordedRequest], bool] | None = None,
        **options,
    ) -> None:
        """Make the next `times` requests to `route` fail the way `kind` says.

        `when`: only requests it accepts fail (e.g. one page of one list); others pass.
        """
        if route not in FAULT_ROUTES:
            raise ValueError(f"Unknown route {route!r}; one of {FAULT_ROUTES}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault {kind!r}; one of {FAULT_KINDS}")
        with self._lock:
            self._faults.setdefault(route, []).append(Fault(kind, times, options, when))

    def fail_page(
        self, kind: str, page: int, fault: str = "status_500", times: int = 1, **options
    ) -> None:
        """Make the next `times` requests for page `page` of the list `kind` fail (v3.1, v3.0)."""

        def asks_for_it(request: RecordedRequest) -> bool:
            listed = request.path.rstrip("/").rsplit("/", 1)[-1] == kind
            return listed and request.query.get("page", "1") == str(page)

        self.fail_next("api", fault, times, when=asks_for_it, **options)

    def _take_fault(self, route: str, request: RecordedRequest) -> Fault | None:
        """The next fault of `route` that applies to `request` (see _fault_applies)."""
        with self._lock:
            queue = self._faults.get(route) or []
            fault = next((f for f in queue if _fault_applies(f, request)), None)
            if fault is None:
                return None
            fault.times -= 1
            if fault.times <= 0:
                queue.remove(fault)
            return fault

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        route = route_of(path)
        request = read_request(environ, route)
        with self._lock:
            self._requests.append(request)
            if route == "api":
                self.api_requests += 1
        fault = self._take_fault(route, request)
        self._enter(route, +1)
        try:
            self._delay(route)
            if fault is not None and fault.kind == "slow":
                # Outside the lock: other requests go on while this one stalls.
                time.sleep(fault.options.get("seconds", 3))
                fault = None
            response = fault_response(fault) if fault else self.handle(request)
        finally:
            self._enter(route, -1)
        return response.start(start_response)

    def _delay(self, route: str) -> None:
        """Wait `latency` seconds before a token or API request, outside the lock."""
        latency = self.latency
        if latency <= 0 or route not in DELAYED_ROUTES:
            return
        with self._lock:
            self.delayed += 1
        self.sleep(latency)

    def stats(self) -> dict:
        """Counters a benchmark reads (also served at GET /_sandbox/stats)."""
        with self._lock:
            return {
                "latency_ms": round(self.latency * 1000, 3),
                "delayed": self.delayed,
                "refreshes": self.refreshes,
                "refresh_double_spends": self.refresh_double_spends,
                "max_api_in_flight": self.max_api_in_flight,
                "api_in_flight_seconds": round(self.api_in_flight_seconds, 3),
                "api_requests": self.api_requests,
            }

    def _enter(self, route: str, step: int) -> None:
        if route != "api":
            return
        with self._lock:
            now = time.monotonic()
            self.api_in_flight_seconds += self._api_in_flight * (now - self._api_in_flight_at)
            self._api_in_flight_at = now
            self._api_in_flight += step
            self.max_api_in_flight = max(self.max_api_in_flight, self._api_in_flight)

    def handle(self, request: RecordedRequest) -> Response:
        try:
            if request.path == STATS_PATH and request.method == "GET":
                return json_response(self.stats())
            if request.route == "authorize":
                return handle_authorize(self, request)
            if request.route in ("token", "v30_token"):
                return handle_token(self, request)
            if request.route == "revoke":
                return handle_revoke(self, request)
            if request.route == "api":
                return handle_api(self, request)
            return error_array(HTTPStatus.NOT_FOUND, "RouteNotFound", "No such route.")
        except Exception:
            logger.exception("Sage sandbox failed on %s %s", request.method, request.path)
            return error_array(HTTPStatus.INTERNAL_SERVER_ERROR, "InternalError", "Sandbox error.")
