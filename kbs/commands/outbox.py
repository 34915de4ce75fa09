"""``kbs outbox list``: the emails a local stack sent, from ``DATA_DIR/outbox`` (no running
stack needed: the files stay after it stops)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kbs.local.outbox import entries
from kbs.table import print_table
from kbs.target import DEFAULT_DATA_DIR
from shared.mail.suppression import ESSENTIAL_KINDS
from shared.notices.kinds import NoticeKind

COLUMNS = ("TIME", "KIND", "TO", "SUBJECT", "FILE")
KINDS = sorted(ESSENTIAL_KINDS | {kind.value for kind in NoticeKind})
"""Every ``X-KBS-Kind`` kbs sends: the essential mail's and the notices'."""


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
    lister.add_argument(
        "--kind",
        choices=KINDS,
        metavar="KIND",
        help=f"only this kind: {', '.join(KINDS)}",
    )
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
