"""``kbs waitlist list SESSION``: a session's waiting list, in the order places are offered.

First come, first served in the order the API accepted the submissions (request time to the
millisecond, then the session's waitlist sequence: :mod:`shared.registrations.waitlist`). Each
line says whether the person can be told: a hard bounce or a complaint means no email reaches
them, so promotion passes them over (they stay on the list); an unsubscribe stops notices only.
"""

from __future__ import annotations

import argparse
from datetime import UTC

from kbs import target as targets

LIST_COLUMNS = ("#", "SINCE (UTC)", "EMAIL", "REFERENCE", "REACHABLE")
REACH = {
    "": "yes",
    "unsubscribed": "yes (unsubscribed from notices)",
    "bounced": "no: bounced, passed over",
    "complained": "no: complained, passed over",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("waitlist", help="a session's waiting list, in order")
    commands = parser.add_subparsers(dest="waitlist_command", required=True)
    lister = commands.add_parser("list", help="position, since, and who can be reached")
    lister.add_argument("session_id")
    targets.add_target_arguments(lister)
    lister.set_defaults(func=list_command)


def list_command(args: argparse.Namespace) -> int:
    from shared.registrations import waitlist

    target = targets.resolve(args)
    places = waitlist.listing(target.table, args.session_id)
    if not places:
        print(f"No one is waiting for {args.session_id}.")
        return 0
    rows = [LIST_COLUMNS] + [
        (
            str(p.position),
            f"{p.entry.joined_at.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"[:-3],
            p.entry.email,
            p.entry.reference,
            REACH.get(p.reach, p.reach),
        )
        for p in places
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(LIST_COLUMNS))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0
