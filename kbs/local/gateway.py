"""The HTTP API on loopback: requests become API Gateway HTTP API (payload 2.0) events.

Routes come from the :class:`~infra.wiring.HttpRoute` triggers. A request that matches none
gets API Gateway's 404; a handler error or a malformed result gets its 500. The body is
base64-encoded (``isBase64Encoded``) unless the content type is text, JSON, XML or
JavaScript, as the real service does, so a browser's form post arrives base64-encoded.

Like the real service, it answers every connection: a bounded pool of request workers takes
connections from a bounded queue, and a connection that finds the queue full gets API
Gateway's throttling answer, ``429 {"message": "Too Many Requests"}`` with ``Retry-After``,
one that waits too long in it gets ``503`` with ``Retry-After`` (:mod:`kbs.local.http_pool`).
A request must arrive whole within :data:`REQUEST_SECONDS`, else 408
(:mod:`kbs.local.http_deadline`), so slow clients hold a worker no longer. A body over the
10 MB payload quota gets 413 whatever its framing, malformed framing gets 400
(:mod:`kbs.local.http_body`), and a method no route can declare gets 404, as no route matches.

``POST /_local/tick`` (loopback, ``application/json``, no ``Origin``: never a web page)
moves the clock to ``{"at": ISO}`` and fires the scheduled rules due since, or
``{"real": true}`` goes back to real time.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote

from infra.wiring import Function, HttpRoute
from kbs.local.clock import Clock, Scheduler, parse_time
from kbs.local.http_body import BodyError, declared_length, read_body
from kbs.local.http_deadline import DeadlineReader
from kbs.local.http_pool import PooledHTTPServer, raw_response
from kbs.local.runtime import ACCOUNT_ID, Invoker, log_event

LOOPBACK = "127.0.0.1"
TICK_PATH = "/_local/tick"
MAX_BODY_BYTES = 10 * 1024 * 1024  # HTTP API payload quota
REQUEST_SECONDS = 10  # a request (line, headers and body) must arrive whole within this
RETRY_AFTER_SECONDS = 1
# The methods an HTTP API route can declare (besides ANY); no route matches any other.
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
API_ID = "local"
_TEXT = re.compile(r"^(text/.+|application/([\w.-]+\+)?(json|xml|javascript))$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_VARIABLE = re.compile(r"\{([A-Za-z0-9_.-]+)(\+?)\}")

JSON = "application/json"

Response = tuple[int, dict[str, str], list[str], bytes]


def error(status: int, message: str) -> Response:
    """An error response in API Gateway's shape: ``{"message": ...}``."""
    return status, {"content-type": JSON}, [], json.dumps({"message": message}).encode()


@dataclass(frozen=True)
class Route:
    """A declared route, its function, and the regular expression its path compiles to."""

    route: HttpRoute
    function: Function
    pattern: re.Pattern[str]
    variables: int
    greedy: bool

    @classmethod
    def of(cls, route: HttpRoute, function: Function) -> Route:
        pattern, variables, greedy, last = "", 0, False, 0
        for match in _VARIABLE.finditer(route.path):
            pattern += re.escape(route.path[last : match.start()])
            greedy = greedy or bool(match[2])
            pattern += f"(?P<{match[1]}>{'.+' if match[2] else '[^/]+'})"
            variables, last = variables + 1, match.end()
        pattern += re.escape(route.path[last:])
        return cls(route, function, re.compile(f"^{pattern}$"), variables, greedy)

    def matches(self, method: str, path: str) -> dict[str, str] | None:
        if method not in METHODS or self.route.method not in (method, "ANY"):
            return None
        match = self.pattern.match(path)
        return {k: unquote(v) for k, v in match.groupdict().items()} if match else None


def routes_of(functions: tuple[Function, ...]) -> list[Route]:
    """Every declared route, most specific first (as API Gateway picks among matches)."""
    routes = [Route.of(r, fn) for fn in functions for r in fn.of_kind(HttpRoute)]
    if any(route.route.path.startswith("/_local/") for route in routes):
        raise ValueError("paths under /_local/ are reserved for the local stack")
    return sorted(routes, key=lambda r: (r.greedy, r.variables, r.route.method == "ANY"))


def http_event(
    route: Route,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
    source_ip: str,
    path_parameters: dict[str, str],
    now: datetime,
) -> dict[str, Any]:
    """The payload 2.0 event API Gateway gives the route's function."""
    raw_path, _, raw_query = target.partition("?")
    joined: dict[str, list[str]] = defaultdict(list)
    for name, value in headers:
        joined[name.lower()].append(value)
    cookies = [c.strip() for value in joined.pop("cookie", []) for c in value.split(";")]
    host = joined.get("host", [LOOPBACK])[0]
    joined["x-forwarded-for"] = [source_ip]
    joined["x-forwarded-port"] = [host.rpartition(":")[2] if ":" in host else "80"]
    joined["x-forwarded-proto"] = ["http"]
    query: dict[str, list[str]] = defaultdict(list)
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name].append(value)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": {name: ",".join(values) for name, values in joined.items()},
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": ",".join(joined.get("user-agent", [])),
            },
            "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
            "routeKey": route.route.route_key,
            "stage": "$default",
            "time": f"{now:%d}/{_MONTHS[now.month - 1]}/{now:%Y:%H:%M:%S} +0000",
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies := [cookie for cookie in cookies if cookie]:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = {name: ",".join(v) for name, v in query.items()}
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        content_type = event["headers"].get("content-type", "")
        event["body"], event["isBase64Encoded"] = _passed_body(body, content_type)
    return event


def _passed_body(body: bytes, content_type: str) -> tuple[str, bool]:
    """The body as API Gateway passes it: text types as text, anything else base64-encoded."""
    if _TEXT.match(content_type.split(";")[0].strip().lower()):
        with contextlib.suppress(UnicodeDecodeError):
            return body.decode(), False
    return base64.b64encode(body).decode(), True


def http_response(result: Any) -> Response:
    """The HTTP response API Gateway makes of a handler's result (ValueError if malformed)."""
    try:
        if not (isinstance(result, dict) and "statusCode" in result):
            return 200, {"content-type": JSON}, [], json.dumps(result).encode()
        status = int(result["statusCode"])
        headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        cookies = [str(cookie) for cookie in result.get("cookies") or []]
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    except (TypeError, AttributeError) as exc:  # ValueError (and binascii.Error) pass as is
        raise ValueError(f"malformed handler response: {exc}") from exc
    if not 100 <= status <= 599:
        raise ValueError(f"malformed handler response: status {status}")
    return status, headers, cookies, data


class Gateway:
    """A threading HTTP server on 127.0.0.1 in front of the declared routes."""

    def __init__(self, functions: tuple[Function, ...], clock: Clock, port: int) -> None:
        self.routes = routes_of(functions)
        self.clock = clock
        self.invoker: Invoker | None = None
        self.scheduler: Scheduler | None = None
        self._server = _Server((LOOPBACK, port), _RequestHandler, refusal(429), refusal(503))
        self._server.gateway = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="kbs-gateway", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, invoker: Invoker, scheduler: Scheduler) -> None:
        self.invoker, self.scheduler = invoker, scheduler
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def invoke(self, route: Route, event: dict[str, Any]) -> Response:
        """Run the route's function; its response, or API Gateway's 500 if it failed."""
        assert self.invoker is not None
        invocation = self.invoker.invoke(route.function, event)
        try:
            response = http_response(invocation.result) if invocation.ok else None
        except ValueError:
            response = None
        outcome = "ok" if response else "error"
        response = response or error(500, "Internal Server Error")
        log_event(
            route.function.name,
            route.route.route_key,
            outcome,
            invocation.duration_ms,
            status=response[0],
        )
        return response

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            parameters = route.matches(method, path)
            if parameters is not None:
                return route, parameters
        return None


def refusal(status: int) -> bytes:
    """API Gateway's answer when throttling (429) or saturated (503), with ``Retry-After``.

    As whole response bytes (:func:`~kbs.local.http_pool.raw_response`).
    """
    status, headers, _, body = error(status, HTTPStatus(status).phrase)
    return raw_response(status, {**headers, "retry-after": str(RETRY_AFTER_SECONDS)}, body)


class _Server(PooledHTTPServer):
    gateway: Gateway


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as browsers expect
    timeout = REQUEST_SECONDS  # in total for each request, not per read
    rfile: DeadlineReader
    _served = 0  # requests begun on this connection
    _answered = False  # whether the current request got (part of) a response

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the plain reader http.server made: reads end by a deadline instead
        self.rfile = DeadlineReader(self.connection, self.timeout)

    def handle(self) -> None:
        """Requests until the connection closes; idle between two, it waits without a worker."""
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            if not self.rfile.pending():
                self.server.keep(self.connection)
                return
            self.handle_one_request()

    def handle_one_request(self) -> None:
        """One request that must arrive within :data:`REQUEST_SECONDS`, else 408 and close.

        A connection that sent nothing of the request by then is closed without an answer.
        """
        if self._served:
            self.rfile.restart(self.timeout)
        self._served += 1
        self._answered = False
        super().handle_one_request()  # a timeout ends it and sets close_connection
        if self.rfile.timed_out and self.rfile.received and not self._answered:
            self.send_error(408)

    def do_request(self) -> None:
        gateway = self.server.gateway
        try:
            body = read_body(self.rfile, self.headers, MAX_BODY_BYTES)
        except BodyError as refused:
            self.close_connection = True  # the unread body would garble the next request
            return self._send(*error(refused.status, refused.message))
        path = self.path.partition("?")[0]
        if path == TICK_PATH:
            return self._send(*self._tick(body))
        found = gateway.match(self.command, path)
        if found is None:
            return self._send(*error(404, "Not Found"))
        route, parameters = found
        now = gateway.clock.now()
        headers = list(self.headers.items())
        source_ip = self.client_address[0]
        event = http_event(
            route, self.command, self.path, headers, body, source_ip, parameters, now
        )
        self._send(*gateway.invoke(route, event))

    def __getattr__(self, name: str) -> Any:
        """``do_<METHOD>`` for any method: API Gateway answers 404, not http.server's 501."""
        if name.startswith("do_"):
            return self.do_request
        raise AttributeError(name)

    def parse_request(self) -> bool:
        """http.server's parsing, but HTTP/0.9 (a request line without a version, answered by
        http.server with a bare body) is refused with 505 and a status line, as API Gateway
        speaks HTTP/1.1 and later only."""
        if not super().parse_request():
            return False
        if len(self.requestline.split()) < 3:
            self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED)
            return False
        return True

    def handle_expect_100(self) -> bool:
        """Refuse an oversize or malformed body before the client sends it, else continue."""
        try:
            declared_length(self.headers, MAX_BODY_BYTES)
        except BodyError as refused:
            self.close_connection = True
            self._send(*error(refused.status, refused.message))
            return False
        return super().handle_expect_100()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A request http.server cannot parse (or that came too slowly): JSON error, and close."""
        self.close_connection = True
        if getattr(self, "request_version", "") in ("", "HTTP/0.9"):  # unset or its default:
            self.request_version = self.protocol_version  # always a status line
        if not hasattr(self, "requestline"):  # the request line never arrived whole
            self.requestline, self.command = "", ""
        self._send(*error(code, HTTPStatus(code).phrase))

    def _tick(self, body: bytes | None) -> Response:
        """Fire the scheduled rules due at the posted time: loopback callers only, and never a
        web page. A browser adds ``Origin`` (and ``Sec-Fetch-Site``) to a page's POST, and can
        send ``application/json`` cross-site only after a CORS preflight, which this path
        fails (405, no CORS headers): so any page the developer opens cannot move the clock."""
        scheduler = self.server.gateway.scheduler
        if self.client_address[0] not in (LOOPBACK, "::1"):
            return error(403, "Forbidden")
        if self.command != "POST" or scheduler is None:
            return error(405, "Method Not Allowed")
        if "origin" in self.headers or "sec-fetch-site" in self.headers:
            return error(403, "Forbidden: the clock is moved by kbs tick, not by a web page")
        if self.headers.get_content_type() != "application/json":
            return error(415, "Unsupported Media Type: send application/json")
        try:
            request = json.loads(body or b"{}")
            at = None if request.get("real") is True else parse_time(request["at"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return error(400, f'expected {{"at": ISO 8601 time}} or {{"real": true}} ({exc})')
        payload = scheduler.tick(at)
        return 200, {"content-type": JSON}, [], json.dumps(payload).encode()

    def _send(self, status: int, headers: dict[str, str], cookies: list[str], body: bytes) -> None:
        self._answered = True
        self.connection.settimeout(self.timeout)  # reads left it at their deadline's remainder
        self.send_response(status)
        for name, value in headers.items():
            if name not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        for cookie in cookies:
            self.send_header("set-cookie", cookie)
        self.send_header("content-length", str(len(body)))
        if self.close_connection or self.server.busy:  # let waiting connections have a worker
            self.send_header("connection", "close")  # (and sets close_connection)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: each handled request is logged once, as a structured line."""
