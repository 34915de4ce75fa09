"""``kbs serve``, ``kbs tick`` and ``kbs invoke``: the local stack and what drives it."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import re
import signal
import sys
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from infra.wiring import EventRule, Function, function
from kbs import target as targets
from kbs.local.clock import Clock, parse_time, within_range
from kbs.local.delivery import queue_arn, received, sqs_event
from kbs.local.drain import GRACE_SECONDS
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
        "AWS is simulated in memory by moto: every start is fresh. Ctrl-C (or SIGTERM) first "
        "refuses new requests and finishes the work already accepted (up to --grace seconds; "
        "what is dropped is reported); if the process is killed, that work is lost (the next "
        "start says so, and moves the old outbox aside). The link-signing key is kept in "
        "DATA_DIR, so links in old emails still verify.",
    )
    serve.add_argument("--port", type=_port, default=8000, help="HTTP API port (0: any free)")
    serve.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="local.json and outbox/")
    serve.add_argument(
        "--clock",
        default="real",
        metavar="ISO|real",
        type=_clock,
        help="real time (default), or a simulated time that only kbs tick moves",
    )
    serve.add_argument(
        "--cap-loopback",
        action="store_true",
        help="apply the submission caps to clients on 127.0.0.1 too (off by default, so demos "
        "and tests can register many times; the caps come from KBS_CAP_PER_ADDRESS_PER_DAY and "
        "KBS_CAP_PER_CLIENT_PER_HOUR, default 5 and 20)",
    )
    serve.add_argument(
        "--grace",
        type=float,
        default=GRACE_SECONDS,
        metavar="SECONDS",
        help="on Ctrl-C or SIGTERM, how long to wait for the accepted work (queued events) to "
        f"be processed before stopping anyway (default {GRACE_SECONDS:g}); a second Ctrl-C "
        "stops at once, and what was dropped is reported",
    )
    serve.set_defaults(func=serve_command)

    tick = subparsers.add_parser(
        "tick",
        help="move the local clock and fire the scheduled rules due meanwhile",
        description="Move the local stack's clock to --at (simulated from then on) and fire "
        "each scheduled rule that was due since the previous clock time, once, at its latest "
        "due moment (with the real Scheduled Event payload); print what each function did. "
        "A tick back in time restarts the clock there (the rules due in that minute fire). "
        "A time without offset is UTC. With --session, --at is an offset from that session's "
        "start instead (--at=-24h, --at=+95m). --real goes back to real time.",
    )
    when = tick.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", metavar="ISO-8601|OFFSET", help="a time, or with --session an offset")
    when.add_argument("--real", action="store_true", help="back to real time; fires nothing")
    tick.add_argument("--session", metavar="ID", help="--at is an offset from this session's start")
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


_OFFSET = re.compile(r"([+-])(\d{1,4})([hm])")


def tick_time(at: str, session_id: str | None, args: argparse.Namespace) -> datetime:
    """The moment ``kbs tick --at`` names: an ISO 8601 time, or with ``--session ID`` an offset
    from that session's start (``-24h``, ``+95m``). Raises :class:`TargetError` for an unknown
    session, :class:`argparse.ArgumentTypeError` for text that is neither."""
    if session_id is None:
        return _iso_time(at)
    match = _OFFSET.fullmatch(at)
    if match is None:
        raise argparse.ArgumentTypeError(f"{at!r} is not an offset such as -24h, -1h or +95m")
    from shared.programme.repository import SessionNotFoundError, get_session

    target = targets.resolve(args)
    try:
        start = get_session(target.table, session_id).session.start
    except SessionNotFoundError as exc:
        raise TargetError(f"no session {session_id} on the local stack") from exc
    sign, amount, unit = match.groups()
    offset = timedelta(hours=int(amount)) if unit == "h" else timedelta(minutes=int(amount))
    try:
        return within_range(start - offset if sign == "-" else start + offset)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _iso_time(value: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 time such as 2026-03-02T09:00:00Z ({exc})"
        ) from None


def _port(text: str) -> int:
    """A TCP port number, 0 to 65535 (0: the system picks a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535 (0: any free), not {port}")
    return port


def _clock(value: str) -> Clock:
    return Clock() if value == "real" else Clock(_iso_time(value))


def serve_command(args: argparse.Namespace) -> int:
    configure_logging()
    stopping, hurry = threading.Event(), threading.Event()

    def on_signal(*_: object) -> None:  # the first stops cleanly, a second at once
        (hurry if stopping.is_set() else stopping).set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
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
    if stack.unclean_stop:
        print("\n".join(f"kbs serve: {line}" for line in stack.unclean_stop.explanation()))
    if stack.previous_outbox:
        print(f"kbs serve: the previous run's emails were moved to {stack.previous_outbox}")
    _banner(info, Path(args.data_dir))
    try:
        while not stopping.wait(0.2):
            pass
        summary = _finish_accepted_work(stack, args.grace, hurry)
    finally:
        stack.stop()
    print(
        f"kbs serve: stopped{': ' + summary if summary else '.'}\n"
        "kbs serve: AWS state discarded; the outbox stays until the next start sets it aside.",
        flush=True,
    )
    # Everything is stopped and written. Exit now: the interpreter's final garbage collection
    # of moto's in-memory AWS takes seconds (15 s after `make demo`) and serves nothing.
    sys.stderr.flush()
    os._exit(0)


def _finish_accepted_work(stack: LocalStack, grace: float, hurry: threading.Event) -> str:
    """Refuse new requests and fire no schedule, then let the queued events be processed (at
    most ``grace`` seconds, until ``hurry``); what happened, for the stop line
    (:meth:`kbs.local.drain.Drained.summary`)."""
    assert stack.drain is not None
    queued = stack.drain.begin()
    if queued:
        noun = "event" if queued == 1 else "events"
        print(
            f"kbs serve: stopping: finishing {queued} accepted {noun} (at most {grace:g} s; "
            "Ctrl-C again to stop now)",
            flush=True,
        )
    drained = stack.drain.finish(grace, hurry)
    if not drained.dropped:
        return f"{drained.summary()}." if drained.finished else ""
    why = f"the grace period ({grace:g} s) ran out"
    if drained.hurried:
        why = "stopped at once on a second signal"
    return f"{drained.summary()}: {why}."


def _banner(info: dict[str, Any], data_dir: Path) -> None:
    clock = "real time" if info["clock"] == "real" else f"simulated, at {info['clock']}"
    lines = [
        "kbs local stack running. AWS is moto, in memory: every start is fresh.",
        f"  API       {info['api_url']}",
        f"  AWS       {info['aws_endpoint_url']}  (region {info['region']})",
        f"  table {info['table']}, bus {info['event_bus']}, bucket {info['bucket']}",
        f"  outbox    {info['outbox']}  (every email sent, as .eml: kbs outbox list)",
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
    if args.real:
        body: dict[str, Any] = {"real": True}
    else:  # a bad time is refused before anything else
        try:
            body = {"at": tick_time(args.at, args.session, args).isoformat()}
        except argparse.ArgumentTypeError as exc:
            raise TargetError(str(exc)) from exc
    info = read_info(_local_data_dir(args, "tick"))
    request = urllib.request.Request(  # noqa: S310 (loopback URL from local.json)
        f"{info['api_url']}{TICK_PATH}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=900) as response:  # noqa: S310
            result = json.load(response)
    except urllib.error.URLError as exc:
        raise TargetError(f"the local stack at {info['api_url']} did not answer: {exc}") from exc
    if result["clock"] == "real":
        print(f"The local clock is back on real time ({result['at']}); nothing was fired.")
        return 0
    if parse_time(result["at"]) < parse_time(result["from"]):
        print(f"Back in time from {result['from']}: the clock restarts at {result['at']}.")
    fired = result["fired"]
    for rule in fired:
        print(f"{rule['at']}  {rule['rule']} -> {rule['function']}: {rule['outcome']}")
        for line in describe_result(rule["result"]):
            print(f"    {line}")
    if not fired:
        print(f"no scheduled rule was due by {result['at']} (since {result['from']})")
    print(f"The local clock is now simulated at {result['at']}.")
    return 1 if any(rule["outcome"] != "ok" for rule in fired) else 0


def describe_result(result: Any) -> list[str]:
    """A handler's result as lines to print: ``key: a, b`` per field of a dict (``none`` for
    an empty list), else the value itself; nothing for ``None``."""
    if result is None:
        return []
    if not isinstance(result, dict):
        return [str(result)]
    lines = []
    for key, value in result.items():
        if isinstance(value, list):
            shown = ", ".join(str(item) for item in value) if value else "none"
            lines.append(f"{key} ({len(value)}): {shown}")
        else:
            lines.append(f"{key}: {value}")
    return lines


def invoke_command(args: argparse.Namespace) -> int:
    info = read_info(_local_data_dir(args, "invoke"))
    try:
        fn = function(args.function)
    except KeyError:
        raise TargetError(f"no function {args.function!r} in infra/wiring.py") from None
    try:
        given = json.loads(args.event.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise TargetError(f"{args.event}: not a JSON event file ({exc})") from exc
    event = as_delivered(fn, given, info)
    environment = aws_environment(info["aws_endpoint_url"], info["region"]) | info["environment"]
    # Handlers log to stdout (as in Lambda): keep stdout for the result alone.
    with patched_environ(environment), contextlib.redirect_stdout(sys.stderr):
        _logs_to_stderr()
        invocation = Invoker((fn,), info["region"]).invoke(fn, event)
    if not invocation.ok:
        print(f"kbs invoke: {fn.name} raised {invocation.error!r}", file=sys.stderr)
        return 1
    print(json.dumps(invocation.result, indent=2, default=str))
    return 0


def _logs_to_stderr() -> None:
    """Point the Powertools logger's handlers (bound to the stdout of their creation) at
    stderr, where ``redirect_stdout`` cannot reach them."""
    import logging

    from shared.platform.observability import logger

    for handler in logging.getLogger(logger.name).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)


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
