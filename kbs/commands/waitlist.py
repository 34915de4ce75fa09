"""``kbs waitlist list SESSION``: a session's waiting list, in the order places are offered;
``kbs waitlist promote SESSION EMAIL``: an organiser gives one of them a place.

First come, first served in the order the API accepted the submissions (request time to the
millisecond, then the session's waitlist sequence: :mod:`shared.registrations.waitlist`). Each
line says whether the person can be told: a hard bounce or a complaint means no email reaches
them, so promotion passes them over (they stay on the list); an unsubscribe stops notices only.
"""

from __future__ import annotations

import argparse
import sys
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
    parser = subparsers.add_parser("waitlist", help="a session's waiting list; promote by hand")
    commands = parser.add_subparsers(dest="waitlist_command", required=True)
    lister = commands.add_parser("list", help="position, since, and who can be reached")
    lister.add_argument("session_id")
    targets.add_target_arguments(lister)
    lister.set_defaults(func=list_command)
    promote = commands.add_parser(
        "promote", help="give a waiting registrant a place (the usual confirmation)"
    )
    promote.add_argument("session_id")
    promote.add_argument("email")
    promote.add_argument("--over-capacity", action="store_true", help="even if the session is full")
    promote.add_argument(
        "--force", action="store_true", help="even if no email reaches them (bounced, complained)"
    )
    targets.add_target_arguments(promote)
    promote.set_defaults(func=promote_command)


def list_command(args: argparse.Namespace) -> int:
    from shared.registrations import waitlist

    target = targets.resolve(args)
    targets.require_session(target.table, args.session_id)
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


def promote_command(args: argparse.Namespace) -> int:
    from shared.programme.repository import SessionNotFoundError
    from shared.registrations import waitlist

    target = targets.resolve(args)
    try:
        promoted = waitlist.promote_one(
            args.session_id,
            args.email,
            now=target.now(),
            settings=target.settings(),
            over_capacity=args.over_capacity,
            force=args.force,
        )
    except SessionNotFoundError:
        print(f"kbs: no session {args.session_id}", file=sys.stderr)
        return 2
    except waitlist.PromotionRefusedError as exc:
        print(f"kbs: {exc}", file=sys.stderr)
        return 2
    print(
        f"{promoted.email} ({promoted.reference}) now has a place in {promoted.session_id}; "
        "confirmation emailed (once) and announced."
    )
    return 0
