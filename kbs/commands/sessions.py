"""``kbs sessions import FILE [--dry-run]`` and ``kbs sessions list``: the organisers'
programme; ``kbs sessions start|reschedule|cancel|reopen ID``: its changes on the day
(:mod:`shared.programme.lifecycle`).

An import prints its plan (new, unchanged, changed fields, refused and why), then carries it
out (:mod:`shared.programme.imports`): it never changes a session's status, and it compares
each session with what the last import of it said, so it never undoes an organiser's change.
A repeated import changes nothing and publishes nothing. A change is stored, then announced:
after a failed publish, the same command announces it again.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from kbs import target as targets
from kbs.local.clock import parse_time
from kbs.table import column_widths, table_line
from shared.i18n.times import session_time_label, utc_offset
from shared.platform.events import PublishError
from shared.programme import repository
from shared.programme.catalogue import ProgrammeError, load_entries
from shared.programme.models import Session, SessionAvailability


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("sessions", help="import or list the programme")
    commands = parser.add_subparsers(dest="sessions_command", required=True)

    importer = commands.add_parser("import", help="store and announce a programme file")
    importer.add_argument("file", help="programme JSON (see events/programme.sample.json)")
    importer.add_argument(
        "--today",
        type=date.fromisoformat,
        help="resolve relative dates (start_in_days) from this date instead of today",
    )
    importer.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (new, unchanged, changed fields, refused and why) and stop",
    )
    targets.add_target_arguments(importer)
    importer.set_defaults(func=import_command)

    lister = commands.add_parser("list", help="print the programme with its bookings")
    targets.add_target_arguments(lister)
    lister.set_defaults(func=list_command)

    starter = commands.add_parser(
        "start", help='announce "Session Started": registrants get the "we are live" notice'
    )
    starter.add_argument("session_id")
    targets.add_target_arguments(starter)
    starter.set_defaults(func=start_command)

    rescheduler = commands.add_parser(
        "reschedule", help="move a session: registrants get the new time and a calendar update"
    )
    rescheduler.add_argument("session_id")
    rescheduler.add_argument(
        "--start",
        required=True,
        type=_iso_time,
        metavar="ISO-8601",
        help="the new start, e.g. 2026-12-08T10:00:00+01:00 (no offset: UTC)",
    )
    targets.add_target_arguments(rescheduler)
    rescheduler.set_defaults(func=reschedule_command)

    canceller = commands.add_parser(
        "cancel", help="cancel a session: registrants are told, with a calendar cancellation"
    )
    canceller.add_argument("session_id")
    canceller.add_argument("--reason", required=True, help="told to registrants")
    targets.add_target_arguments(canceller)
    canceller.set_defaults(func=cancel_command)

    reopener = commands.add_parser(
        "reopen", help="reopen a cancelled session: its registrants get the invitation back"
    )
    reopener.add_argument("session_id")
    targets.add_target_arguments(reopener)
    reopener.set_defaults(func=reopen_command)


def import_command(args: argparse.Namespace) -> int:
    """Print the plan of the import (:mod:`shared.programme.imports`), then carry it out
    unless ``--dry-run``. Exit 2 for a file that cannot be loaded, 1 if a publish failed."""
    from shared.programme import imports

    target = targets.resolve(args)
    now = target.now()
    resolve_at = datetime.combine(args.today, time(12), tzinfo=UTC) if args.today else now
    try:
        entries = load_entries(args.file, resolve_at)
    except ProgrammeError as exc:
        print(f"kbs: {exc}", file=sys.stderr)
        return 2
    plan = imports.plan_import(target.table, entries, now=now)
    for planned in plan.sessions:
        print(planned.line())
    summary = ", ".join(f"{plan.count(a)} {a.value}" for a in imports.Action)
    if args.dry_run:
        print(f"{len(entries)} sessions: {summary}; dry run: nothing stored or announced")
        return 0
    try:
        imports.apply_import(target.table, target.event_bus, plan, now=now)
    except PublishError as exc:
        print(f"kbs: {exc}; run the import again to complete it", file=sys.stderr)
        return 1
    except repository.SessionChangedError as exc:
        print(f"kbs: {exc} changed meanwhile: run the import again", file=sys.stderr)
        return 1
    announced = plan.count(imports.Action.NEW) + plan.count(imports.Action.CHANGED)
    print(f"{len(entries)} sessions: {summary}; {announced} announced on {target.event_bus}")
    return 0


# ``shared.programme.lifecycle`` is imported by the commands that use it: it creates the Powertools
# logger, which must not capture stdout before ``kbs invoke`` redirects it.


def start_command(args: argparse.Namespace) -> int:
    from shared.programme import lifecycle

    return _change(
        args,
        lambda t: lifecycle.start(t.table, t.event_bus, args.session_id, now=t.now()),
        "Session Started",
    )


def reschedule_command(args: argparse.Namespace) -> int:
    from shared.programme import lifecycle

    return _change(
        args,
        lambda t: lifecycle.reschedule(
            t.table, t.event_bus, args.session_id, args.start, now=t.now()
        ),
        "Session Updated",
    )


def cancel_command(args: argparse.Namespace) -> int:
    from shared.programme import lifecycle

    return _change(
        args,
        lambda t: lifecycle.cancel(t.table, t.event_bus, args.session_id, args.reason, now=t.now()),
        "Session Cancelled",
    )


def reopen_command(args: argparse.Namespace) -> int:
    from shared.programme import lifecycle

    return _change(
        args,
        lambda t: lifecycle.reopen(t.table, t.event_bus, args.session_id, now=t.now()),
        "Session Updated",
    )


def _change(
    args: argparse.Namespace, change: Callable[[targets.Target], Session], detail_type: str
) -> int:
    """Apply an organiser's change on the target; print what became of it."""
    from shared.programme import lifecycle

    target = targets.resolve(args)
    try:
        session = change(target)
    except repository.SessionNotFoundError:
        print(f"kbs: no session {args.session_id}", file=sys.stderr)
        return 2
    except lifecycle.ChangeRefusedError as exc:
        print(f"kbs: {exc}", file=sys.stderr)
        return 2
    except repository.SessionChangedError:
        print(
            f"kbs: {args.session_id} changed meanwhile: nothing stored, try again", file=sys.stderr
        )
        return 1
    except PublishError as exc:
        print(f"kbs: {exc}; run the same command again to announce it", file=sys.stderr)
        return 1
    starts = session_time_label(session.start, None, session.timezone, numeric=True)
    print(
        f"{session.session_id}: {session.status.value}, starts {starts}, "
        f"sequence {session.sequence}; "
        f'"{detail_type}" announced on {target.event_bus}'
    )
    return 0


def _iso_time(value: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 time such as 2026-12-08T10:00:00+01:00 ({exc})"
        ) from None


def list_command(args: argparse.Namespace) -> int:
    target = targets.resolve(args)
    programme = repository.list_sessions(target.table)
    if not programme:
        print("No sessions: import a programme with kbs sessions import FILE.")
        return 0
    print("\n".join(programme_lines(programme)))
    return 0


LIST_WIDTH = 100
LIST_COLUMNS = ("ID", "START (SESSION TIME ZONE)", "KIND", "BOOKED", "WAITING", "STATUS")
TITLE_INDENT = "    "


def programme_lines(programme: list[SessionAvailability], width: int = LIST_WIDTH) -> list[str]:
    """The programme as a table at most ``width`` columns wide (for ids of up to ~25
    characters): a row per session (``BOOKED`` is confirmed/capacity), then its title on
    indented lines of its own, wrapped. The zone name is left out of ``START`` when the
    rows would be wider than ``width``."""
    for with_zone in (True, False):
        rows = [LIST_COLUMNS, *(_row(a, with_zone) for a in programme)]
        widths = column_widths(rows)
        if sum(widths) + 2 * (len(widths) - 1) <= width:
            break
    lines = [table_line(LIST_COLUMNS, widths)]
    for availability, row in zip(programme, rows[1:], strict=True):
        lines.append(table_line(row, widths))
        lines += textwrap.wrap(
            availability.session.title,
            width,
            initial_indent=TITLE_INDENT,
            subsequent_indent=TITLE_INDENT,
        )
    return lines


def _row(availability: SessionAvailability, with_zone: bool) -> tuple[str, ...]:
    session = availability.session
    start = session_time_label(session.start, None, session.timezone, numeric=True)
    if not with_zone:  # the abbreviation alone may be ambiguous (IST, CST): the UTC offset
        local = session.start.astimezone(ZoneInfo(session.timezone))
        start = f"{local:%Y-%m-%d %H:%M} {utc_offset(local)}"
    return (
        session.session_id,
        start,
        session.kind.value,
        f"{availability.confirmed}/{session.capacity}",
        str(availability.waitlisted),
        session.status.value,
    )
