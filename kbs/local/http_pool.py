"""An HTTP server that answers every connection: a real backlog, bounded workers, 429 when full.

:class:`http.server.ThreadingHTTPServer` listens with a backlog of 5 and starts a thread per
connection without limit: a burst overflows the backlog and clients see resets, not answers.
:class:`PooledHTTPServer` listens with a backlog of :data:`BACKLOG` (the kernel caps it at
``net.core.somaxconn``). A :class:`Waiter` holds each accepted connection, without a worker,
until its first bytes arrive (one that sends nothing within the handler's ``timeout`` is
closed), then hands it to a bounded queue that a fixed number of worker threads serve; when
that queue is full (or :data:`MAX_WAITING` connections wait) the connection gets at once the
refusal the server was given (the gateway gives API Gateway's throttling answer, ``429``).
A worker is held by a slow client only until the request's deadline (the gateway's
:mod:`kbs.local.http_deadline`), so idle or trickling connections cannot starve the others.

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
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

BACKLOG = 1024
WORKERS = 64  # threads: one blocked on a slow client costs no CPU
QUEUED = 128  # accepted connections waiting for a worker
QUEUE_SECONDS = 5.0  # how long one may wait before it is refused as saturated
LINGER_SECONDS = 2.0
MAX_LINGERING = 512
MAX_WAITING = 1024  # accepted connections waiting for their first bytes
WAIT_SECONDS = 10.0  # how long they may, unless the handler has a timeout
IDLE_POLL_SECONDS = 0.25  # how often a watching thread with nothing due looks up
STOP_SECONDS = 2.0  # how long stopping waits for requests in progress
_SOMAXCONN = Path("/proc/sys/net/core/somaxconn")

Connection = tuple[socket.socket, Any]
Queued = tuple[socket.socket, Any, float]  # and when it was queued (time.monotonic())


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


class _Watcher(ABC):
    """A thread that watches sockets for bytes to read, each until a deadline of its own.

    :meth:`_readable` reads what a socket has (or its end) and says whether it is done with
    it; :meth:`_release` then takes it back, as it does one whose deadline passed. At most
    ``most`` are watched: :meth:`_watch` says False when full (or stopping), and the caller
    keeps the socket.
    """

    name = "kbs-gateway-watch"

    def __init__(self, most: int) -> None:
        self._most = most
        self._incoming: queue.SimpleQueue[tuple[socket.socket, float]] = queue.SimpleQueue()
        self._watched = 0  # sockets being watched (written by the watching thread only)
        self._stopping = threading.Event()
        self._wake, self._woken = socket.socketpair()  # a byte on it ends the wait in select
        self._wake.setblocking(False)
        self._woken.setblocking(False)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake_up()
        if self._thread.is_alive():
            self._thread.join()
        while not self._incoming.empty():
            self._incoming.get()[0].close()

    def _watch(self, sock: socket.socket, deadline: float) -> bool:
        full = self._incoming.qsize() + self._watched >= self._most
        if full or self._stopping.is_set() or not self._thread.is_alive():
            return False
        self._incoming.put((sock, deadline))
        self._wake_up()
        return True

    def _wake_up(self) -> None:
        with contextlib.suppress(OSError):  # full: a wake-up is pending anyway; or closed
            self._wake.send(b"\0")

    @abstractmethod
    def _readable(self, sock: socket.socket) -> bool:
        """What to do with ``sock`` now it is readable: True once it is done with."""

    @abstractmethod
    def _release(self, sock: socket.socket, expired: bool) -> None:
        """Let ``sock`` go (``expired``: its deadline passed first)."""

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._woken, selectors.EVENT_READ)
        deadlines: dict[socket.socket, float] = {}
        while not self._stopping.is_set():
            while not self._incoming.empty():
                sock, deadline = self._incoming.get()
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
                deadlines[sock] = deadline
            now = time.monotonic()
            soonest = min(deadlines.values(), default=now + IDLE_POLL_SECONDS)
            for key, _ in selector.select(timeout=min(max(soonest - now, 0), IDLE_POLL_SECONDS)):
                sock = key.fileobj  # type: ignore[assignment]
                if sock is self._woken:
                    with contextlib.suppress(OSError):
                        sock.recv(4096)
                elif self._readable(sock):
                    selector.unregister(sock)
                    del deadlines[sock]
                    self._release(sock, expired=False)
            now = time.monotonic()
            for sock in [s for s, deadline in deadlines.items() if deadline <= now]:
                selector.unregister(sock)
                del deadlines[sock]
                self._release(sock, expired=True)
            self._watched = len(deadlines)
        for sock in deadlines:
            sock.close()
        selector.close()
        self._woken.close()
        self._wake.close()


class Lingerer(_Watcher):
    """Closes sockets gracefully on a thread of its own (see the module doc)."""

    name = "kbs-gateway-close"

    def __init__(self, seconds: float = LINGER_SECONDS, most: int = MAX_LINGERING) -> None:
        super().__init__(most)
        self._seconds = seconds
        self._buffer = memoryview(bytearray(64 * 1024))

    def close(self, sock: socket.socket) -> None:
        """Shut our side of ``sock`` down; close it once the client is done (or at once)."""
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        if not self._watch(sock, time.monotonic() + self._seconds):
            sock.close()

    def _readable(self, sock: socket.socket) -> bool:
        try:
            done = not sock.recv_into(self._buffer)  # what the client sends, dropped
        except BlockingIOError:
            done = False
        except OSError:
            done = True
        return done

    def _release(self, sock: socket.socket, expired: bool) -> None:
        sock.close()


class Waiter(_Watcher):
    """Holds accepted connections until their first bytes arrive, costing no worker meanwhile.

    A connection with bytes to read (or an end) goes to ``ready``; one that sends nothing
    before its deadline goes to ``expired`` (to be closed without an answer).
    """

    name = "kbs-gateway-wait"

    def __init__(
        self,
        ready: Callable[[Connection], None],
        expired: Callable[[socket.socket], None],
        most: int = MAX_WAITING,
    ) -> None:
        super().__init__(most)
        self._ready, self._on_expiry = ready, expired
        self._addresses: dict[socket.socket, Any] = {}

    def wait(self, connection: Connection, deadline: float) -> bool:
        """Watch the connection until ``deadline`` (``time.monotonic()``); False if full."""
        self._addresses[connection[0]] = connection[1]
        if self._watch(connection[0], deadline):
            return True
        del self._addresses[connection[0]]
        return False

    def _readable(self, sock: socket.socket) -> bool:
        return True

    def _release(self, sock: socket.socket, expired: bool) -> None:
        address = self._addresses.pop(sock)
        sock.setblocking(True)
        if expired:
            self._on_expiry(sock)
        else:
            self._ready((sock, address))


class PooledHTTPServer(HTTPServer):
    """An HTTP server with ``workers`` request threads and ``queued`` waiting connections.

    A connection that finds the queue full gets ``refusal`` (whole response bytes, see
    :func:`raw_response`) from the acceptor, one that waited in it ``queue_seconds`` for a
    worker gets ``saturated`` (by default ``refusal``). :attr:`busy` tells handlers that
    connections are waiting, so a keep-alive connection should close after its current request.
    """

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        refusal: bytes,
        saturated: bytes | None = None,
        workers: int = WORKERS,
        queued: int = QUEUED,
        queue_seconds: float = QUEUE_SECONDS,
    ) -> None:
        self.request_queue_size = listen_backlog()
        self.refusal, self.saturated = refusal, saturated or refusal
        self.queue_seconds = queue_seconds
        self._pending: queue.Queue[Queued | None] = queue.Queue(maxsize=queued)
        self._lingerer = Lingerer()
        self._waiter = Waiter(self._ready, self.shutdown_request)
        self._kept: set[socket.socket] = set()  # kept-alive connections going back to wait
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
        self._waiter.start()
        for worker in self._workers:
            worker.start()
        super().serve_forever(poll_interval)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Wait for the connection's first bytes without a worker (refuse it if too many wait).

        Those that send nothing within the handler's ``timeout`` are closed unanswered.
        """
        if not self._wait((request, client_address)):
            self._refuse(request)

    def keep(self, request: socket.socket) -> None:
        """Once its handler returns, let a kept-alive connection wait for its next request
        as a new one does, without a worker (a handler calls this between two requests)."""
        self._kept.add(request)

    def _wait(self, connection: Connection) -> bool:
        seconds = getattr(self.RequestHandlerClass, "timeout", None) or WAIT_SECONDS
        return self._waiter.wait(connection, time.monotonic() + seconds)

    def _ready(self, connection: Connection) -> None:
        """Queue a connection with bytes to read for a worker, or refuse it if the queue is full."""
        try:
            self._pending.put_nowait((*connection, time.monotonic()))
        except queue.Full:
            self._refuse(connection[0])

    def service_actions(self) -> None:
        """Refuse as saturated the connections that waited ``queue_seconds`` for a worker.

        Runs on the acceptor thread between polls (every ``poll_interval``).
        """
        stale = time.monotonic() - self.queue_seconds
        while True:
            with self._pending.mutex:  # the queue's own lock: take the oldest if stale
                waiting = self._pending.queue
                if not waiting or waiting[0] is None or waiting[0][2] > stale:
                    return
                request = waiting.popleft()[0]
                self._pending.not_full.notify()
            self._refuse(request, self.saturated)

    def shutdown_request(self, request: Any) -> None:
        self._lingerer.close(request)

    def server_close(self) -> None:
        """Stop the workers (refusing what waits; requests in progress get a moment)."""
        super().server_close()
        self._waiter.stop()
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

    def _refuse(self, request: socket.socket, answer: bytes | None = None) -> None:
        with contextlib.suppress(OSError):
            request.setblocking(False)  # a few hundred bytes fit any fresh send buffer
            request.send(answer or self.refusal)
        self._lingerer.close(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-exchange (reset, broken pipe) is routine: no traceback for it; any
        other failure is printed as :class:`socketserver.BaseServer` does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def _work(self) -> None:
        while (connection := self._pending.get()) is not None:
            request, client_address, _ = connection
            try:
                self.finish_request(request, client_address)
            except Exception:
                self._kept.discard(request)
                self.handle_error(request, client_address)
            finally:
                if request in self._kept:
                    self._kept.discard(request)
                    if not self._wait((request, client_address)):
                        self.shutdown_request(request)
                else:
                    self.shutdown_request(request)
