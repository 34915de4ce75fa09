"""``kbs serve``, ``kbs tick`` and ``kbs invoke``: the local stack and what drives it."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from infra.wiring import EventRule, Function, function
from kbs.local.clock import Clock, event_time, parse_time
from kbs.local.delivery import queue_arn, received, sqs_event
from kbs.local.gateway import TICK_PATH
from kbs.local.runtime import Invoker, aws_environment, configure_logging, patched_environ
from kbs.local.server import LocalStack
from kbs.local.state import AlreadyRunningError, read_info
from kbs.target import DEFAULT_DATA_DIR, TargetError, add_target_arguments


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the local stack (moto + the handlers) on 127.0.0.1",
        description="Run the local stack on 127.0.0.1 until Ctrl-C: the HTTP API, event "
        "delivery to the handlers, scheduled rules, and every email as .eml in DATA_DIR/outbox. "
        "AWS is simulated in memory by moto: every start is fresh.",
    )
    serve.add_argument("--port", type=int, default=8000, help="HTTP API port (0: any free)")
    serve.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="local.json and outbox/")
    serve.add_argument(
        "--clock",
        default="real",
        metavar="ISO|real",
        type=_clock,
        help="real time (default), or a simulated time that only `kbs tick` moves",
    )
    serve.add_argument(
        "--cap-loopback",
        action="store_true",
        help="apply the submission caps to clients on 127.0.0.1 too (off by default, so demos "
        "and tests can register many times; the caps come from KBS_CAP_PER_ADDRESS_PER_DAY and "
        "KBS_CAP_PER_CLIENT_PER_HOUR, default 5 and 20)",
    )
    serve.set_defaults(func=serve_command)

    tick = subparsers.add_parser(
        "tick",
        help="fire the scheduled rules due at a time, on the local stack",
        description="Fire every scheduled rule due at --at (with the real Scheduled Event "
        "payload) and simulate that time from then on. A time without offset is UTC.",
    )
    tick.add_argument("--at", required=True, type=_iso_time, metavar="ISO-8601")
    add_target_arguments(tick)
    tick.set_defaults(func=tick_command)

    invoke = subparsers.add_parser(
        "invoke",
        help="run one function's handler on an event file, against the local stack",
        description="Run a declared function on one event and print its result as JSON. A "
        "bare EventBridge event for a rule-triggered function is wrapped in an SQS record, "
        "as its queue would deliver it.",
    )
    invoke.add_argument("function", help="a function name from infra/wiring.py")
    invoke.add_argument("event", type=Path, help="event JSON file (e.g. from events/)")
    add_target_arguments(invoke)
    invoke.set_defaults(func=invoke_command)


def _iso_time(value: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 time such as 2026-03-02T09:00:00Z"
        ) from None


def _clock(value: str) -> Clock:
    return Clock() if value == "real" else Clock(_iso_time(value))


def serve_command(args: argparse.Namespace) -> int:
    configure_logging()
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    stack = LocalStack(
        Path(args.data_dir), port=args.port, clock=args.clock, cap_loopback=args.cap_loopback
    )
    try:
        info = stack.start()
    except AlreadyRunningError as exc:
        print(f"kbs serve: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"kbs serve: port {args.port} is in use: try --port 0", file=sys.stderr)
            return 1
        raise
    _banner(info, Path(args.data_dir))
    try:
        while not stopping.wait(0.2):
            pass
    finally:
        stack.stop()
    print("kbs serve: stopped (AWS state discarded; the outbox stays).", flush=True)
    # Everything is stopped and written. Exit now: the interpreter's final garbage collection
    # of moto's in-memory AWS takes seconds (15 s after `make demo`) and serves nothing.
    sys.stderr.flush()
    os._exit(0)


def _banner(info: dict[str, Any], data_dir: Path) -> None:
    clock = "real time" if info["clock"] == "real" else f"simulated, at {info['clock']}"
    lines = [
        "kbs local stack running. AWS is moto, in memory: every start is fresh.",
        f"  API       {info['api_url']}",
        f"  AWS       {info['aws_endpoint_url']}  (region {info['region']})",
        f"  table {info['table']}, bus {info['event_bus']}, bucket {info['bucket']}",
        f"  outbox    {info['outbox']}  (every email sent, as .eml)",
        f"  clock     {clock}  (`kbs tick --at ISO` fires schedules)",
        f"  info      {data_dir / 'local.json'}  (other commands: --local {data_dir})",
        "Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)


def _local_data_dir(args: argparse.Namespace, command: str) -> Path:
    if args.stack:
        raise TargetError(f"`kbs {command}` drives a local stack only (--local DATA_DIR)")
    return Path(args.local or DEFAULT_DATA_DIR)


def tick_command(args: argparse.Namespace) -> int:
    info = read_info(_local_data_dir(args, "tick"))
    at: datetime = args.at
    request = urllib.request.Request(  # noqa: S310 (loopback URL from local.json)
        f"{info['api_url']}{TICK_PATH}",
        data=json.dumps({"at": at.isoformat()}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=900) as response:  # noqa: S310
            result = json.load(response)
    except urllib.error.URLError as exc:
        raise TargetError(f"the local stack at {info['api_url']} did not answer: {exc}") from exc
    fired = result["fired"]
    for rule in fired:
        print(f"{result['at']}  {rule['rule']} -> {rule['function']}: {rule['outcome']}")
    if not fired:
        print(f"{result['at']}  no scheduled rule is due")
    print(f"The local clock is now simulated at {event_time(at)}.")
    return 1 if any(rule["outcome"] != "ok" for rule in fired) else 0


def invoke_command(args: argparse.Namespace) -> int:
    info = read_info(_local_data_dir(args, "invoke"))
    try:
        fn = function(args.function)
    except KeyError:
        raise TargetError(f"no function {args.function!r} in infra/wiring.py") from None
    event = as_delivered(fn, json.loads(args.event.read_text()), info)
    environment = aws_environment(info["aws_endpoint_url"], info["region"]) | info["environment"]
    # Handlers log to stdout (as in Lambda): keep stdout for the result alone.
    with patched_environ(environment), contextlib.redirect_stdout(sys.stderr):
        invocation = Invoker((fn,), info["region"]).invoke(fn, event)
    if not invocation.ok:
        print(f"kbs invoke: {fn.name} raised {invocation.error!r}", file=sys.stderr)
        return 1
    print(json.dumps(invocation.result, indent=2, default=str))
    return 0


def as_delivered(fn: Function, event: Any, info: dict[str, Any]) -> Any:
    """``event`` as ``fn`` receives it: a bare EventBridge event for a rule-triggered function
    becomes an SQS event from the queue of the rule it matches (queues from ``local.json``)."""
    rules: list[EventRule] = fn.of_kind(EventRule)
    if not rules or not isinstance(event, dict) or "detail-type" not in event:
        return event
    from moto.events.models import EventPattern

    for rule in rules:
        if EventPattern.load(json.dumps(rule.pattern)).matches_event(event):  # type: ignore[arg-type]
            name = info["queues"][rule.name].rsplit("/", 1)[-1]
            region = info["region"]
            return sqs_event([received(json.dumps(event))], queue_arn(name, region), region)
    raise TargetError(f"the event matches no rule of {fn.name}")
