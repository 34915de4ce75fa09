"""Every AWS call each declared function's code makes in the tests, checked against its grants.

moto does not enforce IAM, so a call the role may not make would only fail in AWS. A
``before-parameter-build`` handler (botocore's event system; it sees the API parameters, e.g.
``IndexName``) is registered on every botocore session the tests create; it attributes each
call to the declared function whose handler module (``functions.X.handler``) is on the
calling thread's stack, and records it. After each test,
:func:`check` fails the test if a call needs an action ``infra.permissions.grants`` does not
give that function (``tests/infra/test_least_privilege.py`` checks that the synthesized
template grants exactly those). Calls made by test code or organiser commands (no handler on
the stack) are not attributed.

The calls seen in a session are written to ``.cache/aws-calls/<worker>-<pid>.json`` at its end
(function -> sorted ``iam:Action on resource``), to read what each function needs.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import permissions, wiring

HANDLER_MODULES = {fn.module: fn for fn in wiring.FUNCTIONS}
OUTPUT = Path(__file__).resolve().parents[1] / ".cache" / "aws-calls"


@dataclass(frozen=True)
class Call:
    """One SDK call of a declared function: the IAM permissions it needs, those it lacks."""

    function: str
    service: str
    operation: str
    needs: tuple[str, ...]
    missing: tuple[str, ...]

    def label(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass
class Recorder:
    """Calls since the last :meth:`take` (for the current test) and all of the session."""

    pending: list[Call] = field(default_factory=list)
    seen: dict[str, set[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        fn = calling_function()
        if fn is None:
            return
        service = model.service_model.service_name
        needs = permissions.needed(service, model.name, params)
        call = Call(
            fn.name,
            service,
            model.name,
            tuple(f"{action} on {resource or '*'}" for action, resource in needs),
            tuple(permissions.missing(fn, service, model.name, params)),
        )
        with self.lock:
            self.pending.append(call)
            labels = self.seen.setdefault(fn.name, set())
            new = not labels.issuperset(call.needs)
            labels.update(call.needs)
        if new:  # rare: each function makes few kinds of call
            self.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}")

    def take(self) -> list[Call]:
        with self.lock:
            calls, self.pending = self.pending, []
        return calls

    def write(self, worker: str) -> Path:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        path = OUTPUT / f"{worker}.json"
        path.write_text(
            json.dumps({k: sorted(v) for k, v in sorted(self.seen.items())}, indent=1) + "\n"
        )
        return path


def calling_function() -> wiring.Function | None:
    """The declared function whose handler module is on this thread's stack, if any."""
    frame = sys._getframe(2)
    while frame is not None:
        fn = HANDLER_MODULES.get(frame.f_globals.get("__name__", ""))
        if fn is not None:
            return fn
        frame = frame.f_back  # type: ignore[assignment]
    return None


RECORDER = Recorder()


@contextmanager
def recording() -> Iterator[Recorder]:
    """Register :data:`RECORDER` on every botocore session created meanwhile."""
    import botocore.session

    original = botocore.session.Session.__init__

    def init(self: botocore.session.Session, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.register("before-parameter-build", RECORDER.before_call, unique_id="kbs-aws-calls")

    botocore.session.Session.__init__ = init  # type: ignore[method-assign]
    try:
        yield RECORDER
    finally:
        botocore.session.Session.__init__ = original  # type: ignore[method-assign]
        RECORDER.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}")


def check(calls: list[Call]) -> None:
    """Raise ``AssertionError`` naming each call a function's grants do not cover."""
    denied = sorted(
        {f"{c.function}: {c.label()} needs {', '.join(c.missing)}" for c in calls if c.missing}
    )
    assert not denied, (
        "calls the function's role may not make in AWS (infra.permissions):\n" + "\n".join(denied)
    )
