"""``kbs registrants export|erase EMAIL``: a person's data subject rights, for the organisers;
``kbs registrants remove SESSION EMAIL --reason TEXT``: end someone's place.

``export`` writes everything held about the address as JSON (to ``--out`` or stdout);
``erase`` removes it (:mod:`shared.privacy.rights`): places in coming sessions are cancelled first,
so the waiting list is promoted. On a local stack the outbox's copies of their emails go too.
``remove`` cancels one place or waitlist entry as the person's own link would, and tells them
why, with the calendar update that removes the event (:func:`shared.registrations.cancellation.
remove`); its "Registration Cancelled" event then promotes the waiting list.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kbs import target as targets

# ``shared.privacy.rights`` is imported by the commands (its modules' loggers stay out of other
# ones).


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("registrants", help="export or erase a person's data")
    commands = parser.add_subparsers(dest="registrants_command", required=True)

    export = commands.add_parser("export", help="everything held about an address, as JSON")
    export.add_argument("email")
    export.add_argument("--out", type=Path, help="write to this file (default: stdout)")
    targets.add_target_arguments(export)
    export.set_defaults(func=export_command)

    erase = commands.add_parser("erase", help="remove an address's personal data everywhere")
    erase.add_argument("email")
    targets.add_target_arguments(erase)
    erase.set_defaults(func=erase_command)

    remove = commands.add_parser("remove", help="end a person's place in a session, saying why")
    remove.add_argument("session_id")
    remove.add_argument("email")
    remove.add_argument("--reason", required=True, help="told to the person in the email")
    targets.add_target_arguments(remove)
    remove.set_defaults(func=remove_command)


def remove_command(args: argparse.Namespace) -> int:
    from shared.registrations import cancellation

    target = targets.resolve(args)
    settings = target.settings()
    reason = " ".join(args.reason.split())
    if not reason:
        print("kbs: --reason: say why the place ends (it is told to the person)", file=sys.stderr)
        return 2
    try:
        done = cancellation.remove(
            args.session_id, args.email, reason=reason, now=target.now(), settings=settings
        )
    except cancellation.RegistrationNotFoundError:
        print(f"kbs: {args.email} holds no place in {args.session_id}", file=sys.stderr)
        return 1
    except cancellation.SessionOverError:
        print(f"kbs: {args.session_id} has taken place: nothing to remove", file=sys.stderr)
        return 1
    held = "place" if done.previous_status.value == "confirmed" else "waitlist entry"
    print(
        f"removed {args.email} from {args.session_id} ({held} {done.reference}); "
        "they were emailed the reason and a calendar cancellation"
    )
    return 0


def export_command(args: argparse.Namespace) -> int:
    from shared.privacy import rights

    target = targets.resolve(args)
    data = rights.export(target.table, args.email, now=target.now())
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: {_summary(data)}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def erase_command(args: argparse.Namespace) -> int:
    from shared.privacy import rights

    target = targets.resolve(args)
    settings = target.settings()
    erasure = rights.erase(args.email, now=target.now(), settings=settings)
    copies = 0
    if target.data_dir is not None:  # the local stack's outbox
        from kbs.local.outbox import forget

        copies = forget(target.data_dir / "outbox", args.email)
    if not erasure.found and not copies:
        print("nothing found: no personal data is held for this address")
        return 0
    print(
        f"erased: {erasure.registrations} registration(s) "
        f"({erasure.cancelled} place(s) or waitlist entries given back), "
        f"{erasure.waitlist_entries} waitlist entr(ies), "
        f"{erasure.promotion_notices} promotion notice(s), "
        f"suppression {'removed' if erasure.suppression else 'none'}"
        + (f", {copies} outbox cop(ies)" if target.data_dir is not None else "")
    )
    return 0


def _summary(data: dict[str, object]) -> str:
    counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    return ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items())
