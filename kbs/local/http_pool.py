"""An HTTP server that answers every connection: a real backlog, bounded workers, 429 when full.

:class:`http.server.ThreadingHTTPServer` listens with a backlog of 5 and starts a thread per
connection without limit: a burst overflows the backlog and clients see resets, not answers.
:class:`PooledHTTPServer` listens with a backlog of :data:`BACKLOG` (the kernel caps it at
``net.core.somaxconn``); its acceptor hands each connection to a bounded queue that a fixed
number of worker threads serve, and when that queue is full it answers at once with the
refusal it was given (the gateway gives API Gateway's throttling answer, ``429``).

Every connection is closed gracefully by a :class:`Lingerer`: the server's side is shut
down, then what the client still sends is read and dropped until it hangs up or
:data:`LINGER_SECONDS` pass. Closing a socket with unread bytes would send a reset, and a
reset can destroy the response before the client reads it (a refusal sent before the
request was read, a 413 sent before an oversize body was).
"""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

BACKLOG = 1024
WORKERS = 32
QUEUED = 128  # accepted connections waiting for a worker
LINGER_SECONDS = 2.0
MAX_LINGERING = 512
STOP_SECONDS = 2.0  # how long stopping waits for requests in progress
_SOMAXCONN = Path("/proc/sys/net/core/somaxconn")

Connection = tuple[socket.socket, Any]


def listen_backlog(wanted: int = BACKLOG) -> int:
    """``wanted``, capped by the kernel's ``net.core.somaxconn`` where it can be read."""
    try:
        return min(wanted, int(_SOMAXCONN.read_text()))
    except (OSError, ValueError):
        return wanted


def raw_response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    """A whole HTTP/1.1 response that closes its connection, as bytes to send as is."""
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"content-length: {len(body)}", "connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


class Lingerer:
    """Closes sockets gracefully on a thread of its own (see the module doc)."""

    def __init__(self, seconds: float = LINGER_SECONDS, most: int = MAX_LINGERING) -> None:
        self._seconds, self._most = seconds, most
        self._incoming: queue.SimpleQueue[socket.socket] = queue.SimpleQueue()
        self._lingering = 0  # sockets being drained (written by the lingering thread only)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kbs-gateway-close", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        while not self._incoming.empty():
            self._incoming.get().close()

    def close(self, sock: socket.socket) -> None:
        """Shut our side of ``sock`` down; close it once the client is done (or at once)."""
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        full = self._incoming.qsize() + self._lingering >= self._most
        if full or self._stopping.is_set() or not self._thread.is_alive():
            sock.close()
            return
        self._incoming.put(sock)

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        deadlines: dict[socket.socket, float] = {}
        buffer = memoryview(bytearray(64 * 1024))
        while not self._stopping.is_set():
            arrived = []
            if not deadlines:  # idle: wait for a socket rather than poll
                with contextlib.suppress(queue.Empty):
                    arrived.append(self._incoming.get(timeout=0.25))
            while not self._incoming.empty():
                arrived.append(self._incoming.get())
            for sock in arrived:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
                deadlines[sock] = time.monotonic() + self._seconds
            for key, _ in selector.select(timeout=0.05):
                sock = key.fileobj  # type: ignore[assignment]
                try:
                    done = not sock.recv_into(buffer)  # what the client sends, dropped
                except BlockingIOError:
                    done = False
                except OSError:
                    done = True
                if done:
                    deadlines[sock] = 0
            now = time.monotonic()
            for sock in [s for s, deadline in deadlines.items() if deadline <= now]:
                selector.unregister(sock)
                del deadlines[sock]
                sock.close()
            self._lingering = len(deadlines)
        for sock in deadlines:
            sock.close()
        selector.close()


class PooledHTTPServer(HTTPServer):
    """An HTTP server with ``workers`` request threads and ``queued`` waiting connections.

    A connection that finds the queue full gets ``refusal`` (whole response bytes, see
    :func:`raw_response`) from the acceptor. :attr:`busy` tells handlers that connections are
    waiting, so a keep-alive connection should close after its current request.
    """

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        refusal: bytes,
        workers: int = WORKERS,
        queued: int = QUEUED,
    ) -> None:
        self.request_queue_size = listen_backlog()
        self.refusal = refusal
        self._pending: queue.Queue[Connection | None] = queue.Queue(maxsize=queued)
        self._lingerer = Lingerer()
        self._workers = [
            threading.Thread(target=self._work, name=f"kbs-gateway-{n}", daemon=True)
            for n in range(workers)
        ]
        super().__init__(address, handler)

    @property
    def waiting(self) -> int:
        """How many accepted connections are waiting for a worker."""
        return self._pending.qsize()

    @property
    def busy(self) -> bool:
        """Whether accepted connections are waiting for a worker."""
        return self.waiting > 0

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._lingerer.start()
        for worker in self._workers:
            worker.start()
        super().serve_forever(poll_interval)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Queue the connection for a worker, or refuse it at once if the queue is full."""
        try:
            self._pending.put_nowait((request, client_address))
        except queue.Full:
            self._refuse(request)

    def shutdown_request(self, request: Any) -> None:
        self._lingerer.close(request)

    def server_close(self) -> None:
        """Stop the workers (refusing what waits; requests in progress get a moment)."""
        super().server_close()
        while True:
            try:
                waiting = self._pending.get_nowait()
            except queue.Empty:
                break
            if waiting is not None:
                self._refuse(waiting[0])
        running = [worker for worker in self._workers if worker.is_alive()]
        for _ in running:
            self._pending.put(None)
        deadline = time.monotonic() + STOP_SECONDS
        for worker in running:
            worker.join(max(0.0, deadline - time.monotonic()))
        self._lingerer.stop()

    def _refuse(self, request: socket.socket) -> None:
        with contextlib.suppress(OSError):
            request.setblocking(False)  # a few hundred bytes fit any fresh send buffer
            request.send(self.refusal)
        self._lingerer.close(request)

    def _work(self) -> None:
        while (connection := self._pending.get()) is not None:
            request, client_address = connection
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
