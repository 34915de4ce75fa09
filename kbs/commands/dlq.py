"""``kbs dlq list|redrive``: what failed for good, and sending it back once the cause is fixed.

Each dead-letter queue has an alarm; when it fires: ``kbs dlq list --show`` (ids and event
types, never message bodies: they hold personal data), read the function's logs for the
error, fix the cause, then ``kbs dlq redrive QUEUE`` (or ``--all``). Redriving is safe to
repeat: every consumer is idempotent. See :mod:`kbs.dead_letters`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kbs import dead_letters
from kbs import target as targets
from kbs.table import print_table


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("dlq", help="list or redrive dead-letter queues")
    commands = parser.add_subparsers(dest="dlq_command", required=True)

    lister = commands.add_parser("list", help="each dead-letter queue, its trigger and depth")
    lister.add_argument(
        "--show", action="store_true", help="also each message's id and event type (no bodies)"
    )
    targets.add_target_arguments(lister)
    lister.set_defaults(func=list_command)

    redrive = commands.add_parser(
        "redrive", help="move dead letters back to their source, after fixing the cause"
    )
    which = redrive.add_mutually_exclusive_group(required=True)
    which.add_argument("queue", nargs="?", help="a trigger, function or queue name")
    which.add_argument("--all", action="store_true", help="every dead-letter queue")
    targets.add_target_arguments(redrive)
    redrive.set_defaults(func=redrive_command)


def discover(args: argparse.Namespace) -> list[dead_letters.DeadLetterQueue]:
    """The target's dead-letter queues (the target is activated for boto3)."""
    if args.stack:
        from shared.platform.clients import client

        targets.resolve(args)
        (stack,) = client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return dead_letters.stack_queues(outputs)
    from kbs.local.state import read_info

    info = read_info(Path(args.local or targets.DEFAULT_DATA_DIR))
    targets.resolve(args)
    return dead_letters.local_queues(info)


def list_command(args: argparse.Namespace) -> int:
    from shared.platform.clients import client

    queues = discover(args)
    sqs = client("sqs")
    now = datetime.now(UTC)
    rows: list[tuple[str, ...]] = [
        ("TRIGGER", "FUNCTION", "MESSAGES", "IN FLIGHT", "OLDEST", "QUEUE")
    ]
    shown: list[tuple[dead_letters.DeadLetterQueue, list[dead_letters.Letter]]] = []
    for queue in queues:
        depth = dead_letters.depth(sqs, queue)
        letters = dead_letters.peek(sqs, queue) if args.show and depth.visible else []
        oldest = min((letter.sent_at for letter in letters if letter.sent_at), default=None)
        rows.append(
            (
                queue.trigger,
                queue.function,
                str(depth.visible),
                str(depth.in_flight),
                _age(now - oldest) if oldest else "-",
                queue.name,
            )
        )
        if letters:
            shown.append((queue, letters))
    print_table(rows)
    for queue, letters in shown:
        print(f"\n{queue.trigger} ({len(letters)} shown):")
        for letter in letters:
            sent = f"{letter.sent_at:%Y-%m-%d %H:%M:%S}Z" if letter.sent_at else "-"
            because = f"  ({letter.reason})" if letter.reason else ""
            print(f"  {letter.message_id}  {letter.event_type}  sent {sent}{because}")
    return 0


def redrive_command(args: argparse.Namespace) -> int:
    from shared.platform.clients import client

    queues = discover(args)
    try:
        chosen = queues if args.all else [dead_letters.select(queues, args.queue)]
    except LookupError as exc:
        print(f"kbs: {exc}", file=sys.stderr)
        return 2
    sqs = client("sqs")
    lambda_client: Any = client("lambda") if args.stack else None
    failed = 0
    for queue in chosen:
        if queue.source_queue_url is None and lambda_client is None:
            print(f"{queue.trigger}: no source to redrive to, skipped")
            continue
        result = dead_letters.redrive(sqs, queue, lambda_client=lambda_client)
        failed += result.failed
        where = "its queue" if queue.source_queue_url else f"function {queue.function}"
        print(f"{queue.trigger}: {result.moved} message(s) moved back to {where}", end="")
        print(f", {result.failed} refused and left in place" if result.failed else "")
    return 1 if failed else 0


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
