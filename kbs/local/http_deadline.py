"""A request must arrive whole within a deadline, however slowly its bytes trickle in.

A socket timeout bounds the silence before each read, not the whole request: a client that
sends one byte every few seconds ("slowloris") would hold a request worker for as long as it
likes. :class:`DeadlineReader` is a connection's buffered ``rfile`` whose every read from the
socket first sets the socket's timeout to the time left before the deadline, so the request
line, the headers and the body together arrive within it or :class:`TimeoutError` is raised
(at once when the deadline has passed). :meth:`DeadlineReader.restart` starts the deadline of
the next request on a kept-alive connection, and :attr:`DeadlineReader.received` tells
whether any of it arrived (a client that sent part of a request gets 408, one that sent
nothing is simply closed).
"""

from __future__ import annotations

import io
import socket
import time


class _DeadlineSocketIO(socket.SocketIO):
    """The raw stream under :class:`DeadlineReader`: each read waits at most the time left."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__(sock, "rb")
        self.deadline = deadline  # time.monotonic() seconds
        self.received = 0  # bytes read since the deadline was (re)started
        self.timed_out = False
        self.peeking = False  # read only what is there, without waiting

    def readinto(self, buffer: bytearray | memoryview) -> int | None:  # type: ignore[override]
        left = self.deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError("the request did not arrive within its deadline")
            self._sock.settimeout(0.0 if self.peeking else left)  # type: ignore[attr-defined]
            count = super().readinto(buffer)
        except TimeoutError:
            self.timed_out = True
            raise
        self.received += count or 0
        return count


class DeadlineReader(io.BufferedReader):
    """A socket's buffered reader whose reads all end by a deadline (see the module doc).

    ``seconds`` is the time the first request has to arrive whole, counted from now.
    Reads raise :class:`TimeoutError` once the deadline has passed.
    """

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self._deadline_io = _DeadlineSocketIO(sock, time.monotonic() + seconds)
        super().__init__(self._deadline_io)

    def restart(self, seconds: float) -> None:
        """Give the next request ``seconds`` from now, and count its bytes from zero."""
        self._deadline_io.deadline = time.monotonic() + seconds
        self._deadline_io.received = 0

    def pending(self) -> bool:
        """Whether bytes are buffered or already in the socket (not waiting for any).

        False too when the client has closed its side or the deadline has passed.
        """
        self._deadline_io.peeking = True
        try:
            return bool(self.peek(1))
        except OSError:  # TimeoutError included
            return False
        finally:
            self._deadline_io.peeking = False

    @property
    def received(self) -> int:
        """How many bytes came from the socket since the deadline was (re)started."""
        return self._deadline_io.received

    @property
    def timed_out(self) -> bool:
        """Whether a read raised :class:`TimeoutError` (the stream cannot be read after)."""
        return self._deadline_io.timed_out
