"""A small Lambda-like runtime: handler environment, context object, in-process invocation.

Handlers are imported by the string declared in :mod:`infra.wiring` and called in this
process. Each function runs one invocation at a time, as one Lambda sandbox does (its module
state, such as an event resolver's ``current_event``, belongs to the invocation in hand);
different functions run at the same time. A busy function can instead run in several sandbox
processes at once (:mod:`kbs.local.sandbox`). What they share here and would not share in AWS,
the Powertools metric set, is guarded by a lock (:func:`guard_shared_metrics`); moto's DynamoDB
is serialised in :mod:`kbs.local.moto_server`.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from infra.wiring import Function

ACCOUNT_ID = "123456789012"  # moto's default account
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

log = logging.getLogger("kbs.local")

Handler = Callable[[Any, Any], Any]


def aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """Variables that point boto3 at moto with fake credentials (never a real profile)."""
    return {
        **FAKE_CREDENTIALS,
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ENDPOINT_URL": endpoint_url,
        "POWERTOOLS_SERVICE_NAME": "kbs",
        "POWERTOOLS_METRICS_NAMESPACE": "KnowledgeBuildingSeries",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "1",
    }


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` (dropping ``AWS_PROFILE``); restore everything after."""
    from shared.platform.clients import reset
    from shared.platform.settings import get_settings

    names = {*values, "AWS_PROFILE"}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(values)
    reset()
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset()
        get_settings.cache_clear()


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def function_arn(fn: Function, region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{fn.name}"


def load_handler(fn: Function) -> Handler:
    """Import the handler named in the declaration (``package.module.function``)."""
    handler: Handler = getattr(importlib.import_module(fn.module), fn.entrypoint)
    return handler


@dataclass(frozen=True)
class Invocation:
    """What one handler call gave: its result, or the exception it raised."""

    result: Any
    error: BaseException | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.error is None


def guard_shared_metrics() -> None:
    """Serialise access to the Powertools metric set every handler here shares (idempotent).

    In AWS each sandbox has its own; here a flush (iterating the set) may meet another
    function's ``add_metric`` (changing it), which raises ``RuntimeError``. A metric added by
    one function may be printed by another's flush: totals are unchanged.
    """
    from shared.platform.observability import metrics

    provider = metrics.provider
    if getattr(provider, "_kbs_guarded", False):
        return
    lock = threading.RLock()

    def guarded(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)

        return call

    for name in ("add_metric", "add_dimension", "add_metadata", "flush_metrics", "clear_metrics"):
        setattr(provider, name, guarded(getattr(provider, name)))
    provider._kbs_guarded = True  # type: ignore[attr-defined]


class Sandboxes(Protocol):
    """Sandboxes of one function elsewhere (:class:`kbs.local.sandbox.SandboxPool`)."""

    def invoke(self, event: Any) -> Invocation: ...


class Invoker:
    """Calls declared handlers with a fresh context each time: in this process one invocation
    at a time per function (a sandbox each), functions concurrently; a function given
    ``sandboxes`` runs there instead, concurrently (:mod:`kbs.local.sandbox`)."""

    def __init__(
        self,
        functions: tuple[Function, ...],
        region: str,
        sandboxes: Mapping[str, Sandboxes] | None = None,
    ) -> None:
        self._region = region
        self._sandboxes = dict(sandboxes or {})
        here = [fn for fn in functions if fn.name not in self._sandboxes]
        self._handlers = {fn.name: load_handler(fn) for fn in here}
        self._locks = {fn.name: threading.Lock() for fn in here}
        guard_shared_metrics()

    def invoke(self, fn: Function, event: Any) -> Invocation:
        if fn.name in self._sandboxes:
            return self._sandboxes[fn.name].invoke(event)
        context = LambdaContext(
            function_name=fn.name,
            memory_limit_in_mb=fn.memory_mb,
            invoked_function_arn=function_arn(fn, self._region),
            timeout_seconds=fn.timeout_seconds,
        )
        with self._locks[fn.name]:
            started = time.perf_counter()
            try:
                result, error = self._handlers[fn.name](event, context), None
            except Exception as exc:  # the Lambda runtime reports any error the same way
                result, error = None, exc
                traceback.print_exception(exc)
            duration_ms = (time.perf_counter() - started) * 1000
        return Invocation(result, error, round(duration_ms, 1))


def log_event(function: str, trigger: str, outcome: str, duration_ms: float, **extra: Any) -> None:
    """One structured line per handled event; never put personal data in ``extra``."""
    fields: dict[str, Any] = {"function": function, "trigger": trigger, "outcome": outcome}
    fields |= {"duration_ms": duration_ms, **extra}
    log.info("%s %s: %s", function, trigger, outcome, extra={"fields": fields})


class JsonLines(logging.Formatter):
    """A JSON object a line: the fields of :func:`log_event`, or level and message."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None) or {
            "level": record.levelname,
            "message": record.getMessage(),
        }
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        return json.dumps({"time": when, "logger": record.name, **fields})


def configure_logging() -> None:
    """Send the ``kbs.local`` lines to stderr (handlers log to stdout, as in Lambda)."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLines())
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request lines
