"""The gateway builds API Gateway HTTP API (payload 2.0) events and renders handler results.

Runs an in-process local stack on test-only routes (``tests/e2e/handlers.py``), over HTTP.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from datetime import UTC, datetime
from http.client import HTTPConnection, HTTPResponse
from urllib.parse import urlsplit

import pytest

from infra.wiring import Function, HttpRoute
from kbs.local.clock import Clock
from kbs.local.gateway import MAX_BODY_BYTES, _RequestHandler
from kbs.local.http_pool import WORKERS
from tests.e2e import handlers
from tests.e2e.conftest import StartInProcess
from tests.e2e.support import http

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

NOW = datetime(2026, 3, 2, 9, 30, 15, tzinfo=UTC)
ECHO = Function(
    name="echo",
    handler="tests.e2e.handlers.echo",
    description="test-only HTTP function",
    triggers=(
        HttpRoute("POST", "/echo"),
        HttpRoute("GET", "/items/{item_id}"),
        HttpRoute("GET", "/items/special"),
        HttpRoute("GET", "/files/{path+}"),
        HttpRoute("GET", "/raw"),
        HttpRoute("GET", "/binary"),
        HttpRoute("GET", "/malformed"),
        HttpRoute("ANY", "/boom"),
    ),
    timeout_seconds=7,
)


@pytest.fixture(scope="module")
def api(in_process: StartInProcess) -> str:
    return str(in_process(ECHO, clock=Clock(NOW))["api_url"])


def last_event() -> dict:
    return handlers.received("echo")[-1]


def exchange(api: str, head: str, body: bytes = b"") -> tuple[int, dict, bytes]:
    """Send raw request bytes; the response's status, headers and body, then end of stream."""
    url = urlsplit(api)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        response = HTTPResponse(sock, method=head.split(" ", 1)[0])
        response.begin()
        answer = response.status, dict(response.getheaders()), response.read()
        assert response.will_close, "the connection must close after a refused body"
        return answer


def test_an_http_0_9_request_gets_a_505_with_a_status_line(api: str) -> None:
    url = urlsplit(api)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(b"GET /items/special\r\n\r\n")
        answer = b"".join(iter(lambda: sock.recv(65536), b""))

    assert answer.startswith(b"HTTP/1.1 505 ")
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {"message": "HTTP Version Not Supported"}
    assert handlers.received("echo") == []


def test_a_form_post_arrives_base64_encoded_with_the_request_details(api: str) -> None:
    body = b"full_name=Zo%C3%AB&sessions=a&sessions=b"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "c1=v1; c2=v2",
        "User-Agent": "e2e-agent",
        "X-Custom": "Yes",
    }

    reply = http("POST", f"{api}/echo?a=1&a=2&b=x%20y", body, headers)

    assert reply.status == 200
    event = last_event()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /echo"
    assert event["rawPath"] == "/echo"
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "Yes"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert event["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body
    assert "pathParameters" not in event
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/echo",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "e2e-agent",
    }
    assert context["stage"] == "$default"
    assert context["routeKey"] == "POST /echo"
    assert context["timeEpoch"] == int(NOW.timestamp() * 1000)
    assert context["time"] == "02/Mar/2026:09:30:15 +0000"
    assert context["domainName"] == api.removeprefix("http://")
    assert context["requestId"]


def test_a_json_body_arrives_as_text(api: str) -> None:
    http("POST", f"{api}/echo", b'{"a": 1}', {"Content-Type": "application/json"})

    event = last_event()
    assert event["isBase64Encoded"] is False
    assert event["body"] == '{"a": 1}'


def test_a_chunked_body_is_read_whole(api: str) -> None:
    connection = HTTPConnection(urlsplit(api).netloc, timeout=10)
    chunks = iter([b'{"a": ', b"1}"])

    connection.request("POST", "/echo", body=chunks, headers={"Content-Type": "application/json"})
    status = connection.getresponse().status
    connection.close()

    assert status == 200
    assert last_event()["body"] == '{"a": 1}'


def test_a_body_over_the_payload_quota_is_refused(api: str) -> None:
    connection = HTTPConnection(urlsplit(api).netloc, timeout=10)
    connection.putrequest("POST", "/echo")
    connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
    connection.endheaders()

    status = connection.getresponse().status
    connection.close()

    assert status == 413
    assert handlers.received("echo") == []


@pytest.mark.parametrize(
    "body",
    [
        b"ZZ\r\nabc\r\n0\r\n\r\n",  # not a hexadecimal size
        b"-1\r\nabc\r\n0\r\n\r\n",  # negative: used to read until the client hung up
        b"3\r\nabcdef\r\n0\r\n\r\n",  # a chunk longer than its size
    ],
)
def test_a_malformed_chunk_is_a_400(api: str, body: bytes) -> None:
    head = "POST /echo HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n"

    status, _, answer = exchange(api, head, body)

    assert status == 400
    assert json.loads(answer) == {"message": "Bad Request"}
    assert handlers.received("echo") == []


@pytest.mark.parametrize(
    "framing",
    [
        "Content-Length: 3\nTransfer-Encoding: chunked\n",  # both: a smuggling vector
        "Content-Length: -3\n",
        "Content-Length: 3, 4\n",
        "Transfer-Encoding: gzip\n",
    ],
)
def test_malformed_framing_headers_are_a_400(api: str, framing: str) -> None:
    status, _, answer = exchange(api, f"POST /echo HTTP/1.1\nHost: x\n{framing}", b"abc")

    assert status == 400
    assert json.loads(answer) == {"message": "Bad Request"}
    assert handlers.received("echo") == []


def test_a_chunked_body_over_the_payload_quota_is_a_413(api: str) -> None:
    size = MAX_BODY_BYTES // 2 + 1
    chunk = f"{size:x}\r\n".encode() + b"x" * size + b"\r\n"
    head = "POST /echo HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n"

    status, _, answer = exchange(api, head, chunk * 2 + b"0\r\n\r\n")

    assert status == 413
    assert json.loads(answer) == {"message": "Request Entity Too Large"}
    assert handlers.received("echo") == []


def test_an_oversize_body_is_refused_before_100_continue(api: str) -> None:
    head = "POST /echo HTTP/1.1\nHost: x\nExpect: 100-continue\n"
    head += f"Content-Length: {MAX_BODY_BYTES + 1}\n"

    status, _, answer = exchange(api, head)

    assert status == 413
    assert json.loads(answer) == {"message": "Request Entity Too Large"}


@pytest.mark.parametrize(
    ("framing", "part"),
    [("Content-Length: 10", b"abc"), ("Transfer-Encoding: chunked", b"a\r\nabc")],
)
def test_a_body_that_stops_arriving_is_a_408(
    api: str, monkeypatch: pytest.MonkeyPatch, framing: str, part: bytes
) -> None:
    monkeypatch.setattr(_RequestHandler, "timeout", 1)  # REQUEST_SECONDS, shortened

    status, _, answer = exchange(api, f"POST /echo HTTP/1.1\nHost: x\n{framing}\n", part)

    assert status == 408
    assert json.loads(answer) == {"message": "Request Timeout"}
    assert handlers.received("echo") == []


DEADLINE = 1  # seconds: REQUEST_SECONDS, shortened
TRICKLE = 0.3  # seconds between two bytes of a slow client


def connect(api: str) -> socket.socket:
    url = urlsplit(api)
    return socket.create_connection((url.hostname, url.port), timeout=10)


def trickle(socks: list[socket.socket], data: bytes, stop: threading.Event) -> None:
    """Send ``data`` on every socket, one byte each every :data:`TRICKLE` s until ``stop``."""
    for byte in data:
        if stop.wait(TRICKLE):
            return
        for sock in socks:
            with contextlib.suppress(OSError):  # the server closed it, as it should at the deadline
                sock.send(bytes([byte]))


def get(api: str, path: str, timeout: float) -> tuple[int, bytes]:
    """GET ``path``; its status and body (TimeoutError after ``timeout`` s)."""
    connection = HTTPConnection(urlsplit(api).netloc, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def answer_of(sock: socket.socket) -> tuple[int, bytes]:
    response = HTTPResponse(sock, method="POST")
    response.begin()
    return response.status, response.read()


@pytest.mark.parametrize(
    ("head", "slow"),
    [
        ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", b"a" * 100),
        ("POST /echo HTTP/1.1\r\n", b"Host: x\r\n" * 10),  # the headers trickle
        ("POST /ec", b"ho HTTP/1.1\r\n" * 10),  # the request line trickles
    ],
    ids=["body", "headers", "request-line"],
)
def test_a_request_trickling_past_its_deadline_is_a_408(
    api: str, monkeypatch: pytest.MonkeyPatch, head: str, slow: bytes
) -> None:
    monkeypatch.setattr(_RequestHandler, "timeout", DEADLINE)
    stop = threading.Event()
    with connect(api) as sock:
        started = time.monotonic()
        sock.sendall(head.encode())
        sender = threading.Thread(target=trickle, args=([sock], slow, stop))
        sender.start()
        try:
            status, body = answer_of(sock)
        finally:
            stop.set()
            sender.join()
        elapsed = time.monotonic() - started

    assert status == 408
    assert json.loads(body) == {"message": "Request Timeout"}
    assert elapsed < DEADLINE + 0.5  # the whole request's deadline, not the silence per read
    assert handlers.received("echo") == []


def test_connections_that_send_nothing_hold_no_worker_and_close_at_the_deadline(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deadline = 3
    monkeypatch.setattr(_RequestHandler, "timeout", deadline)
    idle = [connect(api) for _ in range(WORKERS + 8)]
    try:
        time.sleep(0.2)
        started = time.monotonic()
        status, _ = get(api, "/items/fast", timeout=deadline)
        elapsed = time.monotonic() - started
        ends = [sock.recv(1024) for sock in idle]
        closed = time.monotonic() - started
    finally:
        for sock in idle:
            sock.close()

    assert status == 200
    assert elapsed < 1  # no worker waited on the idle connections
    assert set(ends) == {b""}  # closed without an answer
    assert closed < deadline + 0.5


def test_kept_alive_connections_idle_between_requests_hold_no_worker(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deadline = 6
    monkeypatch.setattr(_RequestHandler, "timeout", deadline)
    kept = [HTTPConnection(urlsplit(api).netloc, timeout=deadline) for _ in range(WORKERS + 8)]
    started = time.monotonic()
    try:
        for connection in kept:  # each served though those before it stay open and idle
            connection.request("GET", "/items/kept")
            response = connection.getresponse()
            response.read()
            assert not response.will_close
        status, _ = get(api, "/items/fast", timeout=deadline)
        elapsed = time.monotonic() - started
        kept[-1].request("GET", "/items/again")  # still open (idle < deadline): served on it
        again = kept[-1].getresponse().status
    finally:
        for connection in kept:
            connection.close()

    print(f"{len(kept)} kept-alive requests and a fresh GET: {elapsed:.2f} s")
    assert status == 200
    assert elapsed < deadline / 2  # no worker waited on the idle kept-alive connections
    assert again == 200


def test_slow_clients_holding_every_worker_do_not_stall_other_requests(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_RequestHandler, "timeout", DEADLINE)
    head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n"
    slow = [connect(api) for _ in range(WORKERS)]
    for sock in slow:
        sock.sendall(head)
    stop = threading.Event()
    sender = threading.Thread(target=trickle, args=(slow, b"a" * 30, stop))  # for 9 s
    sender.start()
    try:
        time.sleep(0.2)  # every worker now waits on a slow client
        started = time.monotonic()
        status, _ = get(api, "/items/fast", timeout=DEADLINE + 2)
        elapsed = time.monotonic() - started
        answers = [answer_of(sock)[0] for sock in slow]
    finally:
        stop.set()
        sender.join()
        for sock in slow:
            sock.close()

    assert status in (200, 429, 503)
    assert elapsed < DEADLINE + 1  # a worker comes free at the slow clients' deadline
    assert set(answers) == {408}
    assert [event["rawPath"] for event in handlers.received("echo")] == ["/items/fast"]


@pytest.mark.parametrize(("method", "path"), [("BREW", "/echo"), ("PROPFIND", "/boom")])
def test_an_unknown_method_is_a_404_as_no_route_declares_it(
    api: str, method: str, path: str
) -> None:
    reply = http(method, f"{api}{path}", b"{}", {"Content-Type": "application/json"})

    assert reply.status == 404
    assert reply.json() == {"message": "Not Found"}
    assert handlers.received("echo") == []


def test_a_request_http_server_cannot_parse_gets_a_json_400(api: str) -> None:
    status, _, answer = exchange(api, "POST /echo HTTP/9.x\n")

    assert status == 400
    assert json.loads(answer) == {"message": "Bad Request"}


def test_the_handler_gets_a_lambda_context(api: str) -> None:
    reply = http("POST", f"{api}/echo", b"{}", {"Content-Type": "application/json"})

    assert 0 < reply.json()["remaining_ms"] <= ECHO.timeout_seconds * 1000


@pytest.mark.parametrize(
    ("path", "route_key", "parameters"),
    [
        ("/items/a%20b", "GET /items/{item_id}", {"item_id": "a b"}),
        ("/items/special", "GET /items/special", None),
        ("/files/slides/deck%201.pdf", "GET /files/{path+}", {"path": "slides/deck 1.pdf"}),
    ],
)
def test_routes_match_like_api_gateway(
    api: str, path: str, route_key: str, parameters: dict[str, str] | None
) -> None:
    reply = http("GET", f"{api}{path}")

    assert reply.status == 200
    event = last_event()
    assert event["routeKey"] == route_key
    assert event.get("pathParameters") == parameters
    assert "body" not in event


def test_status_headers_cookies_and_binary_bodies_come_back(api: str) -> None:
    reply = http("GET", f"{api}/binary")

    assert reply.status == 201
    assert reply.body == b"\x00\xffbytes"
    assert reply.headers["Content-Type"] == "application/octet-stream"
    assert reply.headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; HttpOnly"]


def test_a_result_without_status_code_is_a_json_200(api: str) -> None:
    reply = http("GET", f"{api}/raw")

    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"hello": "world"}


@pytest.mark.parametrize("path", ["/boom", "/malformed"])
def test_a_failing_handler_is_a_500_without_details(api: str, path: str) -> None:
    reply = http("DELETE" if path == "/boom" else "GET", f"{api}{path}")

    assert reply.status == 500
    assert reply.json() == {"message": "Internal Server Error"}


@pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("DELETE", "/echo")])
def test_an_undeclared_route_is_a_404_and_no_invocation(api: str, method: str, path: str) -> None:
    reply = http(method, f"{api}{path}")

    assert reply.status == 404
    assert reply.json() == {"message": "Not Found"}
    assert handlers.received("echo") == []


def test_each_request_is_logged_once_without_personal_data(
    api: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="kbs.local")
    http(
        "POST",
        f"{api}/echo?email=zoe%40example.se",
        b"email=zoe%40example.se",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )

    lines = [r.__dict__["fields"] for r in caplog.records if "fields" in r.__dict__]
    assert len(lines) == 1
    assert lines[0]["function"] == "echo"
    assert lines[0]["trigger"] == "POST /echo"
    assert lines[0]["outcome"] == "ok"
    assert lines[0]["status"] == 200
    assert "zoe" not in json.dumps(lines)
