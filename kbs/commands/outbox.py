"""``kbs outbox list``: the emails a local stack sent, from ``DATA_DIR/outbox`` (no running
stack needed: the files stay after it stops)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kbs.local.outbox import entries
from kbs.table import print_table
from kbs.target import DEFAULT_DATA_DIR

COLUMNS = ("TIME", "KIND", "TO", "SUBJECT", "FILE")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("outbox", help="the emails a local stack sent")
    commands = parser.add_subparsers(dest="outbox_command", required=True)
    lister = commands.add_parser(
        "list",
        help="list the .eml files of DATA_DIR/outbox: time, kind, recipient, subject, file",
        description="List the emails the local stack wrote to DATA_DIR/outbox, by time "
        "(the Date header): time, kind (X-KBS-Kind), recipients, subject and file name.",
    )
    lister.add_argument("--to", metavar="ADDR", help="only emails to this address (To/Cc/Bcc)")
    lister.add_argument("--kind", metavar="KIND", help="only this kind, e.g. reminder-24h")
    lister.add_argument(
        "--local",
        nargs="?",
        const=DEFAULT_DATA_DIR,
        default=DEFAULT_DATA_DIR,
        metavar="DATA_DIR",
        help=f"the local stack's data dir (default {DEFAULT_DATA_DIR})",
    )
    lister.set_defaults(func=list_command)


def list_command(args: argparse.Namespace) -> int:
    directory = Path(args.local) / "outbox"
    if not directory.is_dir():
        print(f"No outbox at {directory}: kbs serve writes one there.")
        return 0
    listed = entries(directory, to=args.to, kind=args.kind)
    if not listed and args.kind:
        kinds = sorted({entry.kind or "-" for entry in entries(directory)})
        if args.kind not in kinds:
            print(
                f"kbs outbox list: no email of kind {args.kind!r} in {directory}; "
                f"the kinds there: {', '.join(kinds) or 'none (no emails)'}",
                file=sys.stderr,
            )
            return 2
    if not listed:
        print(f"No emails in {directory}" + (" match" if args.to or args.kind else ""))
        return 0
    rows = [COLUMNS] + [
        (
            f"{entry.time:%Y-%m-%dT%H:%M:%SZ}",
            entry.kind or "-",
            ", ".join(entry.recipients) or "-",
            entry.subject,
            entry.path.name,
        )
        for entry in listed
    ]
    print_table(rows)
    return 0
