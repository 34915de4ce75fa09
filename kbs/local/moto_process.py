"""moto and the outbox writer in a process of their own, so they do not share the GIL with the
gateway and the handlers.

``kbs serve`` spends about two thirds of its CPU in moto (parsing requests, running them,
serialising responses): in one process, every handler waited for the GIL behind moto, and moto
behind the handlers. :class:`MotoProcess` starts ``python -m kbs.local.moto_process``, which
serves moto on loopback (:class:`~kbs.local.moto_server.MotoServer`, DynamoDB requests one at a
time, :mod:`kbs.local.moto_patch` applied) and runs the :class:`~kbs.local.outbox.Outbox`,
which reads moto's SES memory and so must live with it. Erasure requests reach that outbox
through the data dir (``outbox/.forget/``), as before.

The parent talks to the child over its standard streams: the child prints one JSON line,
``{"endpoint": URL}``, once it serves; it stops when it reads ``stop`` (after a last
collection of the outbox) or at end of file, which is how it learns that the parent died
(``kill -9``): then it exits at once and leaves the outbox alone, for the next ``kbs serve``
moves that run's outbox aside. It ignores ``SIGINT`` (Ctrl-C reaches the whole process group):
the parent stops it last, after the gateway and the pollers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

STOP = "stop"
START_SECONDS = 60.0
STOP_SECONDS = 15.0


class MotoProcessError(RuntimeError):
    """The moto process did not start (its message says why) or died."""


class MotoProcess:
    """The child process (see module doc): :meth:`start`, then :attr:`endpoint`, :meth:`stop`."""

    def __init__(self, host: str, outbox: Path) -> None:
        self._command = [
            sys.executable,
            "-m",
            "kbs.local.moto_process",
            "--host",
            host,
            "--outbox",
            str(outbox),
        ]
        self._process: subprocess.Popen[str] | None = None
        self.endpoint = ""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> str:
        """Start the child and wait for its endpoint; :class:`MotoProcessError` if it exits
        or says nothing within :data:`START_SECONDS`."""
        process = subprocess.Popen(  # noqa: S603 (our own module, this interpreter)
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            # moto's server runs a thread per request: glibc's arena per thread fragments
            # the heap; two arenas keep the process's memory to what moto holds.
            env={**os.environ, "MALLOC_ARENA_MAX": "2"},
        )
        self._process = process
        assert process.stdout is not None
        line = _read_line(process.stdout, START_SECONDS)
        try:
            self.endpoint = str(json.loads(line)["endpoint"])
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise MotoProcessError(
                f"moto's process did not start (exit code {process.poll()}, said {line!r})"
            ) from None
        return self.endpoint

    def stop(self) -> None:
        """Ask the child to write the last emails and exit; kill it if it does not."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            assert process.stdin is not None
            process.stdin.write(f"{STOP}\n")
            process.stdin.close()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def _read_line(stream: IO[str], seconds: float) -> str:
    """The first line of ``stream`` (empty if none came within ``seconds``)."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    return lines[0].strip() if lines else ""


def main(argv: list[str] | None = None) -> int:
    """Serve moto and run the outbox until told to stop (see module doc)."""
    from kbs.local.moto_server import MotoServer
    from kbs.local.outbox import Outbox
    from kbs.local.runtime import configure_logging

    parser = argparse.ArgumentParser(description="moto and the outbox of `kbs serve`")
    parser.add_argument("--host", required=True)
    parser.add_argument("--outbox", required=True, type=Path)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging()
    moto = MotoServer(args.host)
    moto.start()
    outbox = Outbox(args.outbox)
    outbox.start()
    print(json.dumps({"endpoint": moto.endpoint}), flush=True)
    clean = sys.stdin.readline().strip() == STOP
    if clean:
        outbox.stop()  # a last collection: mail sent just before the stop
    moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
