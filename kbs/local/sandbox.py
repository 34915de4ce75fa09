"""Sandboxes of a busy function as processes, invoked concurrently, as Lambda scales out.

In :class:`~kbs.local.runtime.Invoker` a function runs one invocation at a time in the
``kbs serve`` process (one sandbox). For the functions given a :class:`SandboxPool` (the
``api``, which answers ``POST /registrations``), each invocation runs in one of up to ``size``
worker processes, ``python -m kbs.local.sandbox``, each one sandbox: it imports the handler
once, then runs one invocation at a time, with module state (a resolver's ``current_event``,
the Powertools metric set, cached clients) of its own, as in Lambda. Invocations wait only for
a free sandbox, not for each other. The sandboxes are started with the pool and import their
handler at once (their cold starts are not on a request's path, and overlap the stack's
provisioning); :meth:`SandboxPool.start` then gives them the final environment (the queue URLs
provisioning made) and waits until they are ready.

A sandbox that dies during an invocation (``kill -9``, ``os._exit``) or outruns the
function's timeout (it is killed) fails that invocation, with a warning in the log, and is
replaced. Each invocation carries the local clock's simulated time (or none), so the
sandbox's ``PutEvents`` carry it (:func:`~kbs.local.event_time.stamp_put_events`).

The parent and a sandbox talk over a socket pair (pickled tuples): the parent sends
``(event, simulated time or None)``, the sandbox answers ``(result, error or None, ms)``;
the handler's output goes to the inherited stdout and stderr, as a Lambda's goes to its log.
The first message is the environment (a dict), the first answer :data:`READY`.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from infra.wiring import Function
from kbs.local.clock import Clock
from kbs.local.runtime import Invocation, LambdaContext, function_arn, load_handler, log

READY = "ready"


class SandboxError(RuntimeError):
    """The handler raised (its message and type), or the sandbox died or timed out."""


class Sandbox:
    """One worker process running ``fn`` (see module doc)."""

    def __init__(self, fn: Function, region: str) -> None:
        self.fn = fn
        parent, child = socket.socketpair()
        spec = {
            "function": {
                "name": fn.name,
                "handler": fn.handler,
                "description": fn.description,
                "timeout_seconds": fn.timeout_seconds,
                "memory_mb": fn.memory_mb,
            },
            "region": region,
        }
        self.process = subprocess.Popen(  # noqa: S603 (our module, this interpreter)
            [sys.executable, "-m", "kbs.local.sandbox", json.dumps(spec), str(child.fileno())],
            pass_fds=(child.fileno(),),
        )
        child.close()
        self._connection = Connection(parent.detach())

    def ready(self, environment: dict[str, str], seconds: float) -> bool:
        """Give the sandbox its environment; whether it is ready (handler imported, environment
        applied) within ``seconds``."""
        try:
            self._connection.send(environment)
            return bool(self._connection.poll(seconds) and self._connection.recv() == READY)
        except (EOFError, OSError):
            return False

    def invoke(self, event: Any, simulated: datetime | None) -> Invocation:
        """Run one invocation; a dead or timed-out sandbox gives a :class:`SandboxError`
        (then :attr:`alive` is False)."""
        started = time.perf_counter()
        try:
            self._connection.send((event, simulated))
            if not self._connection.poll(self.fn.timeout_seconds):
                self.stop()
                raise SandboxError(f"Task timed out after {self.fn.timeout_seconds} seconds")
            result, error, duration_ms = self._connection.recv()
        except (EOFError, OSError):
            code = self.process.wait()
            error = f"the sandbox process exited with code {code} during the invocation"
            result, duration_ms = None, round((time.perf_counter() - started) * 1000, 1)
        except SandboxError as timeout:
            error, result = str(timeout), None
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
        return Invocation(result, SandboxError(error) if error else None, duration_ms)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._connection.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class SandboxPool:
    """``size`` sandboxes of ``fn``, launched now (they import the handler in parallel);
    :meth:`start` readies them, then :meth:`invoke` takes a free one."""

    def __init__(
        self, fn: Function, region: str, size: int, clock: Clock, start_seconds: float = 60
    ) -> None:
        self.fn, self._region, self._clock = fn, region, clock
        self._start_seconds = start_seconds
        self._environment: dict[str, str] = {}
        self._idle: queue.SimpleQueue[Sandbox] = queue.SimpleQueue()
        self._all: list[Sandbox] = []
        self._lock = threading.Lock()
        self._launched = [self._new() for _ in range(size)]

    def start(self, environment: dict[str, str] | None = None) -> SandboxPool:
        """Give every sandbox ``environment`` (default: this process's); :class:`SandboxError`
        if one is not ready within ``start_seconds``."""
        self._environment = dict(os.environ if environment is None else environment)
        launched, self._launched = self._launched, []
        for sandbox in launched:
            if not sandbox.ready(self._environment, self._start_seconds):
                self.stop()
                raise SandboxError(f"a sandbox of {self.fn.name} did not start")
            self._idle.put(sandbox)
        return self

    def _new(self) -> Sandbox:
        sandbox = Sandbox(self.fn, self._region)
        with self._lock:
            self._all.append(sandbox)
        return sandbox

    def invoke(self, event: Any) -> Invocation:
        sandbox = self._idle.get()
        simulated = self._clock.now() if self._clock.simulated else None
        invocation = sandbox.invoke(event, simulated)
        if sandbox.alive:
            self._idle.put(sandbox)
            return invocation
        log.warning("a sandbox of %s failed: %s; replacing it", self.fn.name, invocation.error)
        with self._lock:
            self._all.remove(sandbox)
        threading.Thread(target=self._replace, name=f"kbs-sandbox-{self.fn.name}").start()
        return invocation

    def _replace(self) -> None:
        sandbox = self._new()
        if sandbox.ready(self._environment, self._start_seconds):
            self._idle.put(sandbox)
        else:  # keep the pool's size: try again (each failure is logged)
            sandbox.stop()
            with self._lock:
                self._all.remove(sandbox)
            log.warning("a new sandbox of %s did not start; trying again", self.fn.name)
            self._replace()

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return [sandbox.process.pid for sandbox in self._all]

    def stop(self) -> None:
        with self._lock:
            sandboxes, self._all = list(self._all), []
        for sandbox in sandboxes:
            sandbox.stop()


def _reset_cached_clients() -> None:
    """Clients and settings cached during the import see the new environment."""
    from shared.platform.clients import reset
    from shared.platform.settings import get_settings

    reset()
    get_settings.cache_clear()


def main(argv: list[str]) -> int:
    """A sandbox: import the handler, say so, then run invocations until the parent goes."""
    from kbs.local.event_time import stamp_put_events

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
    spec, fd = json.loads(argv[0]), int(argv[1])
    fn = Function(**spec["function"], triggers=())
    connection = Connection(fd)
    clock = Clock()
    stamp_put_events(clock)
    handler = load_handler(fn)
    try:
        environment = connection.recv()
    except (EOFError, OSError):
        return 0
    os.environ.update(environment)
    _reset_cached_clients()
    connection.send(READY)
    while True:
        try:
            event, simulated = connection.recv()
        except (EOFError, OSError):
            return 0
        clock.set(simulated)
        context = LambdaContext(
            function_name=fn.name,
            memory_limit_in_mb=fn.memory_mb,
            invoked_function_arn=function_arn(fn, spec["region"]),
            timeout_seconds=fn.timeout_seconds,
        )
        started = time.perf_counter()
        try:
            result, error = handler(event, context), None
        except Exception as exc:  # the Lambda runtime reports any error the same way
            traceback.print_exception(exc)
            result, error = None, f"{type(exc).__name__}: {exc}"
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        connection.send((result, error, duration_ms))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
