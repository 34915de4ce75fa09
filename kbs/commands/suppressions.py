"""``kbs suppressions list|lift``: the addresses no email goes to, and lifting one.

Hard bounces and complaints (SES feedback) and unsubscribes put an address on the list
(:mod:`shared.mail.suppression`); ``lift`` removes it, for example after the registrant fixed their
mailbox or asked to receive emails again. A new registration lifts an unsubscribe by itself.
"""

from __future__ import annotations

import argparse
import sys

from kbs import target as targets
from kbs.table import print_table

LIST_COLUMNS = ("EMAIL", "REASON", "SINCE (UTC)", "SES FEEDBACK ID")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("suppressions", help="list or lift email suppressions")
    commands = parser.add_subparsers(dest="suppressions_command", required=True)

    lister = commands.add_parser("list", help="every suppressed address, oldest first")
    targets.add_target_arguments(lister)
    lister.set_defaults(func=list_command)

    lift = commands.add_parser("lift", help="send email to an address again")
    lift.add_argument("email")
    targets.add_target_arguments(lift)
    lift.set_defaults(func=lift_command)


def list_command(args: argparse.Namespace) -> int:
    from datetime import UTC

    from shared.mail import suppression

    target = targets.resolve(args)
    found = suppression.listing(target.table)
    if not found:
        print("No suppressed addresses.")
        return 0
    rows = [LIST_COLUMNS] + [
        (
            s.email,
            s.reason.value,
            f"{s.suppressed_at.astimezone(UTC):%Y-%m-%d %H:%M}",
            s.feedback_id or "-",
        )
        for s in found
    ]
    print_table(rows)
    return 0


def lift_command(args: argparse.Namespace) -> int:
    from shared.mail import suppression

    target = targets.resolve(args)
    lifted = suppression.lift(target.table, args.email)
    if lifted is None:
        print(f"kbs: {args.email} is not suppressed", file=sys.stderr)
        return 1
    print(f"lifted {lifted.email} ({lifted.reason.value}): emails go to it again")
    return 0
