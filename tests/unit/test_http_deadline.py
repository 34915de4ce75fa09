"""A request's reads end by one deadline, however slowly its bytes trickle in."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from kbs.local.http_deadline import DeadlineReader

DEADLINE = 0.5


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


def trickle(sock: socket.socket, count: int, every: float) -> threading.Thread:
    def send() -> None:
        for _ in range(count):
            time.sleep(every)
            with contextlib.suppress(OSError):
                sock.send(b"a")

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_a_trickle_ends_at_the_deadline_not_at_a_silence(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    reader = DeadlineReader(server, DEADLINE)
    sender = trickle(client, 8, 0.1)  # never silent for 0.5 s
    started = time.monotonic()

    with pytest.raises(TimeoutError):
        reader.read(100)

    assert time.monotonic() - started < DEADLINE + 0.2
    assert reader.timed_out
    assert reader.received >= 2
    sender.join()


def test_a_restart_gives_the_next_request_its_own_deadline(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    reader = DeadlineReader(server, DEADLINE)
    client.sendall(b"first\n")
    assert reader.readline(100) == b"first\n"
    time.sleep(DEADLINE)  # the first request's deadline has passed

    reader.restart(DEADLINE)
    client.sendall(b"second\n")

    assert reader.readline(100) == b"second\n"
    assert reader.received == len(b"second\n")
    assert not reader.timed_out


def test_nothing_sent_times_out_with_nothing_received(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, _ = pair
    reader = DeadlineReader(server, DEADLINE)

    with pytest.raises(TimeoutError):
        reader.readline(100)

    assert reader.timed_out
    assert reader.received == 0
