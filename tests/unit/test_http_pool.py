"""The pooled HTTP server: bounded workers, a bounded queue, 429 from the acceptor when full."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.client import HTTPResponse
from http.server import BaseHTTPRequestHandler

import pytest

from kbs.local.http_pool import PooledHTTPServer, listen_backlog, raw_response

REFUSAL = raw_response(429, {"content-type": "application/json", "retry-after": "1"}, b"{}")
RELEASE = threading.Event()
ENTERED = threading.Event()


class Held(BaseHTTPRequestHandler):
    """Answers 200 once :data:`RELEASE` is set, holding its worker until then."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        ENTERED.set()
        RELEASE.wait(10)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[PooledHTTPServer]:
    RELEASE.clear()
    ENTERED.clear()
    pooled = PooledHTTPServer(("127.0.0.1", 0), Held, REFUSAL, workers=1, queued=1)
    thread = threading.Thread(target=pooled.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield pooled
    RELEASE.set()
    pooled.shutdown()
    pooled.server_close()


def post(server: PooledHTTPServer, body: bytes = b"") -> socket.socket:
    sock = socket.create_connection(server.server_address[:2], timeout=10)
    sock.sendall(f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode())
    threading.Thread(target=_send_quietly, args=(sock, body), daemon=True).start()
    return sock


def _send_quietly(sock: socket.socket, body: bytes) -> None:
    with contextlib.suppress(OSError):  # the server may answer and close before reading it all
        sock.sendall(body)


def status_of(sock: socket.socket) -> int:
    response = HTTPResponse(sock, method="POST")
    response.begin()
    response.read()
    sock.close()
    return response.status


def wait(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        threading.Event().wait(0.02)
    raise AssertionError("condition not met in 4 s")


def test_the_listen_backlog_is_real_not_five() -> None:
    assert listen_backlog() >= 128


def test_a_connection_beyond_workers_and_queue_is_refused_at_once_then_others_are_served(
    server: PooledHTTPServer,
) -> None:
    held = post(server)
    assert ENTERED.wait(5)
    queued = post(server)
    wait(lambda: server.busy)

    refused = post(server, b"x" * (4 * 1024 * 1024))  # unread: must not turn into a reset

    assert status_of(refused) == 429
    RELEASE.set()
    assert status_of(held) == 200
    assert status_of(queued) == 200
    wait(lambda: not server.busy)


def test_connections_waiting_when_the_server_stops_are_refused_not_dropped() -> None:
    RELEASE.clear()
    ENTERED.clear()
    pooled = PooledHTTPServer(("127.0.0.1", 0), Held, REFUSAL, workers=1, queued=4)
    thread = threading.Thread(target=pooled.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    held = post(pooled)
    assert ENTERED.wait(5)
    waiting = [post(pooled) for _ in range(3)]
    wait(lambda: pooled.waiting == 3)

    pooled.shutdown()
    pooled.server_close()

    assert [status_of(sock) for sock in waiting] == [429, 429, 429]
    RELEASE.set()
    held.close()


def test_a_connection_waiting_too_long_for_a_worker_is_refused_as_saturated() -> None:
    RELEASE.clear()
    ENTERED.clear()
    saturated = raw_response(503, {"retry-after": "1"}, b"{}")
    pooled = PooledHTTPServer(
        ("127.0.0.1", 0), Held, REFUSAL, saturated, workers=1, queued=4, queue_seconds=0.5
    )
    thread = threading.Thread(target=pooled.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        held = post(pooled)
        assert ENTERED.wait(5)
        started = time.monotonic()
        waiting = post(pooled)

        assert status_of(waiting) == 503
        assert 0.5 <= time.monotonic() - started < 1.5
        assert not pooled.busy
    finally:
        RELEASE.set()
        pooled.shutdown()
        pooled.server_close()
    assert status_of(held) == 200


@pytest.mark.parametrize(
    ("failure", "printed"),
    [
        (BrokenPipeError(32, "Broken pipe"), False),
        (ConnectionResetError(), False),
        (KeyError("x"), True),
    ],
)
def test_a_client_gone_mid_answer_prints_no_traceback_but_a_real_fault_does(
    capsys: pytest.CaptureFixture[str], failure: Exception, printed: bool
) -> None:
    pooled = PooledHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler, REFUSAL, workers=1)
    try:
        try:
            raise failure
        except Exception:
            pooled.handle_error(None, ("127.0.0.1", 50000))
    finally:
        pooled.server_close()

    assert ("Traceback" in capsys.readouterr().err) is printed
