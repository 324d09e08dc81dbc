"""The Sage Accounting API client: GET a path as parsed JSON, page through `$next`.

Credentials come from a callable, asked before every HTTP request, so that a
long pagination picks up a refreshed access token; a 401 is answered by asking
the `renew` callable (when given) once and retrying the call once. Redirects are
never followed (they would carry the token elsewhere) and every request has a
timeout. A `budget` bounds the time all of a client's calls take, 429 waits
included (a page cannot wait half a minute). Tokens are never logged.
"""

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

import orjson
import requests
from django.conf import settings
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_variables

from integrations.sage import endpoints
from integrations.sage.errors import SageAnswerTooLarge, SageApiError
from integrations.sage.http import SageSession, check_transport
from integrations.sage.signing import new_nonce, request_signature
from integrations.sage.versions import ApiVersion

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiAuth:
    """What one request needs to authenticate as a linked business."""

    api_version: str
    access_token: str = field(repr=False)
    business_id: str = ""
    resource_owner_id: str = ""
    subscription_key: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class RawAnswer:
    """Sage's status and parsed JSON as they came, errors included (for the API's proxy)."""

    status: int
    body: Any
    retry_after: str | None = None  # Sage's Retry-After, on a 429 or 503
    request_id: str = ""  # Sage's x_request_id


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int | None
    next_path: str | None


def retry_wait(response: requests.Response, attempt: int) -> float:
    """Seconds to wait before retrying a 429: Retry-After, else a backoff; capped."""
    try:
        wait = float(response.headers.get("Retry-After", ""))
    except ValueError:
        wait = 2.0**attempt  # no usable Retry-After: back off
    return max(0.0, min(wait, float(settings.SAGE_RETRY_WAIT_CAP)))


# Under a budget, a 429 is retried only when the wait leaves this long for the next try.
MIN_TRY_SECONDS = 1.0
# Sage's 401 for a valid token of a business without a subscription: a refresh cannot help.
NOT_RENEWABLE_401 = frozenset({"AuthorizationFailure"})


def _renewable(response: requests.Response) -> bool:
    """A 401 that a new access token may cure (not "no active subscription")."""
    return response.status_code == 401 and _error_from(response).data_code not in NOT_RENEWABLE_401


def _out_of_time() -> SageApiError:
    return SageApiError(
        gettext("Sage is taking too long to answer; try again later."), retryable=True
    )


def _error_from(response: requests.Response) -> SageApiError:
    """Turn Sage's error array (or anything else) into one SageApiError."""
    request_id = response.headers.get("x_request_id", "")
    retryable = response.status_code >= 500 or response.status_code == 429
    try:
        body = response.json()
    except ValueError:
        body = None
    errors = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    first = next((e for e in errors if isinstance(e, dict) and e.get("$message")), None)
    if first is not None:
        message, data_code = str(first["$message"]), str(first.get("$dataCode", ""))
    elif response.status_code == 429:
        message, data_code = gettext("Sage is receiving too many requests; try again later."), ""
    elif retryable:
        message, data_code = gettext("Sage is unavailable at the moment; try again later."), ""
    else:
        message, data_code = gettext("Sage refused the request."), ""
    return SageApiError(
        message,
        data_code=data_code,
        request_id=request_id,
        status=response.status_code,
        retryable=retryable,
    )


class SageClient:
    """Read JSON from the Sage API of one linked business."""

    def __init__(
        self,
        auth: Callable[[], ApiAuth],
        *,
        api_version: str,
        renew: Callable[[ApiAuth], None] | None = None,
        budget: float | None = None,
        base_url: str | None = None,
        slot: Callable[[], AbstractContextManager[None]] | None = None,
    ) -> None:
        """`renew(rejected)`: get a new token after Sage answered 401 to `rejected`.

        `budget`: seconds from now that every call of this client may take in all
        (requests, 429 waits); None bounds each request by SAGE_HTTP_TIMEOUT only.
        `base_url`: another API base than the version's own (v3.0's core API).
        `slot()`: held around each request while it is in flight (concurrency.sage_slot:
        the app's and the business's ceiling); it raises SageBusy when none is free.
        """
        self._auth = auth
        self._renew = renew
        self._slot = slot or contextlib.nullcontext
        self._deadline = None if budget is None else time.monotonic() + budget
        self.api_version = api_version
        self.base_url = (base_url or endpoints.api_url(api_version)).rstrip("/")
        check_transport(self.base_url)  # fail fast, before any token is asked for

    def with_base_url(self, base_url: str) -> "SageClient":
        """The same credentials, renewal and budget, under another API base."""
        other = SageClient(
            self._auth,
            api_version=self.api_version,
            renew=self._renew,
            base_url=base_url,
            slot=self._slot,
        )
        other._deadline = self._deadline
        return other

    def time_left(self) -> float | None:
        """Seconds left of the budget, or None without one."""
        return self._time_left()

    def _time_left(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def _timeout(self) -> float:
        """The timeout of the next request: SAGE_HTTP_TIMEOUT, or less when the budget is short."""
        timeout = float(settings.SAGE_HTTP_TIMEOUT)
        left = self._time_left()
        if left is None:
            return timeout
        if left <= 0:
            raise _out_of_time()
        return min(timeout, left)

    def _can_wait(self, seconds: float) -> bool:
        left = self._time_left()
        return left is None or seconds + MIN_TRY_SECONDS <= left

    def url_for(self, path: str) -> str:
        """Resolve `path` (or a `$next` link) under the API base; refuse anything else."""
        base = self.base_url + "/"
        base_path = urlsplit(base).path
        if path.startswith(("http://", "https://")):
            url = path
        elif path.startswith(base_path):
            url = urljoin(base, path)  # a path that already carries the base's own path
        else:
            url = base + path.lstrip("/")
        if not url.startswith(base):
            raise SageApiError(gettext("Sage sent a link outside its API."))
        return url

    def get(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        """GET `path` and return the parsed JSON."""
        parts = urlsplit(self.url_for(path))
        query = parse_qsl(parts.query, keep_blank_values=True)
        query += [(k, str(v)) for k, v in (params or {}).items()]
        return self._send("GET", urlunsplit(parts._replace(query="")), query)

    def get_raw(
        self, path: str, params: Sequence[tuple[str, str]] = (), *, max_bytes: int | None = None
    ) -> RawAnswer:
        """GET `path` and return Sage's status and JSON, a 4xx or 5xx included.

        Still raises SageApiError when Sage cannot be reached, redirects (never
        followed) or answers something that is not JSON; SageAnswerTooLarge when its
        answer is longer than `max_bytes` (read no further).
        """
        parts = urlsplit(self.url_for(path))
        query = parse_qsl(parts.query, keep_blank_values=True) + list(params)
        answer = self._send(
            "GET", urlunsplit(parts._replace(query="")), query, raw=True, max_bytes=max_bytes
        )
        assert isinstance(answer, RawAnswer)
        return answer

    def relative_path(self, link: str) -> str:
        """`link` (a `$next`, say) as a path under the API base, without its leading slash."""
        return self.url_for(link).removeprefix(self.base_url + "/")

    def page(self, path: str, params: Mapping[str, object] | None = None) -> Page:
        """GET one page of a list."""
        body = self.get(path, params)
        if not isinstance(body, dict) or not isinstance(body.get("$items"), list):
            raise SageApiError(gettext("Sage sent an unexpected answer."))
        total = body.get("$total")
        return Page(
            items=[item for item in body["$items"] if isinstance(item, dict)],
            total=total if isinstance(total, int) else None,
            next_path=body.get("$next") or None,
        )

    def pages(self, path: str, params: Mapping[str, object] | None = None) -> Iterator[Page]:
        """Yield every page of a list, following `$next`."""
        page = self.page(path, params)
        yield page
        while page.next_path:
            page = self.page(page.next_path)
            yield page

    def items(
        self, path: str, params: Mapping[str, object] | None = None
    ) -> Iterator[dict[str, Any]]:
        for page in self.pages(path, params):
            yield from page.items

    @sensitive_variables()  # the headers carry the access token and v3.0 keys
    def _headers(
        self, auth: ApiAuth, method: str, url: str, query: list[tuple[str, str]]
    ) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {auth.access_token}", "Accept": "application/json"}
        if auth.api_version == ApiVersion.V30:
            nonce = new_nonce()
            headers |= {
                "Ocp-Apim-Subscription-Key": auth.subscription_key,
                "X-Site": auth.resource_owner_id,
                "X-Nonce": nonce,
                "X-Signature": request_signature(
                    method=method,
                    url=url,
                    params=query,
                    body=None,
                    nonce=nonce,
                    resource_owner_id=auth.resource_owner_id,
                    signing_secret=auth.signing_secret,
                    access_token=auth.access_token,
                ),
            }
        elif auth.business_id:
            headers["X-Business"] = auth.business_id
        return headers

    @sensitive_variables()
    def _send(
        self,
        method: str,
        url: str,
        query: list[tuple[str, str]],
        *,
        raw: bool = False,
        max_bytes: int | None = None,
    ) -> Any:
        attempts = max(1, int(settings.SAGE_API_MAX_ATTEMPTS))
        attempt = 0
        renewed = False
        with SageSession() as session:
            while True:
                auth = self._auth()
                try:
                    with self._slot():
                        response = session.request(
                            method,
                            url,
                            params=query,
                            headers=self._headers(auth, method, url, query),
                            timeout=self._timeout(),
                            stream=max_bytes is not None,
                        )
                        if max_bytes is not None:
                            _read_at_most(response, max_bytes)
                except requests.RequestException:
                    logger.warning("Sage API %s %s could not be reached", method, url)
                    raise SageApiError(
                        gettext("Sage could not be reached; try again later."), retryable=True
                    ) from None
                if self._renew is not None and not renewed and _renewable(response):
                    logger.info(
                        "Sage API %s %s answered 401; renewing the token and retrying once",
                        method,
                        url,
                    )
                    renewed = True
                    self._renew(auth)
                    continue
                if response.status_code == 429 and attempt + 1 < attempts:
                    wait = retry_wait(response, attempt)
                    if self._can_wait(wait):
                        logger.info("Sage API answered 429; retrying in %.1f s", wait)
                        time.sleep(wait)
                        attempt += 1
                        continue
                    logger.info("Sage API answered 429; no time left to wait %.1f s", wait)
                if raw:
                    return self._parse_raw(response)
                return self._parse(method, url, response)

    @sensitive_variables()
    def _parse_raw(self, response: requests.Response) -> RawAnswer:
        request_id = response.headers.get("x_request_id", "")
        _refuse_redirect(response, request_id)
        body = _json_body(response, request_id)
        retry_after = response.headers.get("Retry-After")
        return RawAnswer(
            status=response.status_code, body=body, retry_after=retry_after, request_id=request_id
        )

    @sensitive_variables()
    def _parse(self, method: str, url: str, response: requests.Response) -> Any:
        request_id = response.headers.get("x_request_id", "")
        _refuse_redirect(response, request_id)
        if response.status_code >= 400:
            error = _error_from(response)
            logger.warning(
                "Sage API %s %s answered %s (%s, x_request_id=%s)",
                method,
                url,
                response.status_code,
                error.data_code,
                request_id,
            )
            raise error
        return _json_body(response, request_id)


def _read_at_most(response: requests.Response, max_bytes: int) -> None:
    """Read the body of a streamed answer, decoded, unless it is longer than `max_bytes`."""
    too_large = SageAnswerTooLarge(
        gettext("Sage's answer is larger than this API passes on; ask for fewer items."),
        request_id=response.headers.get("x_request_id", ""),
        status=response.status_code,
    )
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        response.close()
        raise too_large
    body = bytearray()
    for chunk in response.iter_content(chunk_size=64 * 1024):
        body += chunk
        if len(body) > max_bytes:
            response.close()
            raise too_large
    response._content = bytes(body)  # what .text and .json() read from now on


def _refuse_redirect(response: requests.Response, request_id: str) -> None:
    """Raise SageApiError if Sage answered with a redirect (it is never followed)."""
    if 300 <= response.status_code < 400:
        raise SageApiError(
            gettext("Sage answered with a redirect, which was not followed."),
            request_id=request_id,
            status=response.status_code,
        )


@sensitive_variables()
def _json_body(response: requests.Response, request_id: str) -> Any:
    """Sage's answer decoded from JSON; SageApiError if it is not JSON."""
    try:
        return orjson.loads(response.content)  # bytes: JSON is UTF-8 (RFC 8259)
    except ValueError:  # orjson.JSONDecodeError is one
        raise SageApiError(
            gettext("Sage sent an answer that is not JSON."),
            request_id=request_id,
            status=response.status_code,
        ) from None
