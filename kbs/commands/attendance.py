"""``kbs attendance import|set|threshold|list``: who attended a session, for certificates.

``import SESSION FILE`` reads a Zoom, Teams, GoTo Webinar or plain ``email,minutes`` report
(:mod:`shared.attendance`) and prints the matched attendees with their minutes, those under the
threshold, registered no-shows and the unmatched rows (by address: this is the organiser's
terminal, not a log). ``--dry-run`` prints the same and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kbs import target as targets

if TYPE_CHECKING:
    from shared.attendance.matching import Outcome
    from shared.platform.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("attendance", help="import attendance reports, thresholds")
    commands = parser.add_subparsers(dest="attendance_command", required=True)

    run = commands.add_parser(
        "import",
        help="import a session's attendance report (Zoom, Teams, GoTo Webinar, email,minutes)",
    )
    run.add_argument("session_id", metavar="SESSION")
    run.add_argument("file", type=Path, metavar="FILE")
    run.add_argument("--dry-run", action="store_true", help="print the result, write nothing")
    targets.add_target_arguments(run)
    run.set_defaults(func=import_command)

    correct = commands.add_parser("set", help="correct one registrant's minutes (audited)")
    correct.add_argument("session_id", metavar="SESSION")
    correct.add_argument("email", metavar="EMAIL")
    correct.add_argument("--minutes", type=int, required=True)
    correct.add_argument("--reason", required=True)
    targets.add_target_arguments(correct)
    correct.set_defaults(func=set_command)

    threshold = commands.add_parser(
        "threshold",
        help="the percent of the scheduled minutes that qualifies: the series' default, or "
        "one session's with SESSION",
    )
    threshold.add_argument("values", nargs="+", metavar="[SESSION] PERCENT")
    targets.add_target_arguments(threshold)
    threshold.set_defaults(func=threshold_command)

    listing = commands.add_parser("list", help="a session's attendance records and imports")
    listing.add_argument("session_id", metavar="SESSION")
    targets.add_target_arguments(listing)
    listing.set_defaults(func=list_command)


def import_command(args: argparse.Namespace) -> int:
    from shared.attendance.imports import import_report
    from shared.attendance.reports import MAX_REPORT_BYTES, ReportError

    target = targets.resolve(args)
    try:
        size = args.file.stat().st_size
        if size > MAX_REPORT_BYTES:  # refused before reading it
            raise ReportError(
                f"the file has {size:,} bytes: reports up to {MAX_REPORT_BYTES:,} are accepted"
            )
        result = import_report(
            _settings(target),
            args.session_id,
            args.file.read_bytes(),
            actor=caller_identity(target),
            now=target.now(),
            dry_run=args.dry_run,
        )
    except (ReportError, OSError) as exc:
        return _refused(f"{args.file}: {exc}")
    _print_outcome(result.outcome)
    figures = (
        f"{len(result.attendees)} record(s) created, changed or removed"
        if result.status in ("imported", "completed")
        else "nothing written"
    )
    print(f"{result.status} (file sha256 {result.digest[:16]}...): {figures}")
    for email in result.kept_manual:
        print(f"  kept the manual correction of {email} (not in this file)")
    return 0


def set_command(args: argparse.Namespace) -> int:
    from shared.attendance.imports import correct
    from shared.attendance.reports import ReportError

    target = targets.resolve(args)
    try:
        attendee = correct(
            _settings(target),
            args.session_id,
            args.email,
            args.minutes,
            args.reason,
            actor=caller_identity(target),
            now=target.now(),
        )
    except ReportError as exc:
        return _refused(str(exc))
    if attendee is None:
        print(f"unchanged: {args.email.strip().lower()} already has {args.minutes} minute(s)")
    else:
        qualifies = "qualifies" if attendee["qualifies"] else "under the threshold"
        print(f"set {attendee['email']} to {attendee['minutes']} minute(s): {qualifies}")
    return 0


def threshold_command(args: argparse.Namespace) -> int:
    from shared.attendance import store
    from shared.programme.repository import SessionNotFoundError, get_session

    if len(args.values) > 2:
        return _refused("usage: kbs attendance threshold [SESSION] PERCENT")
    *session, percent_text = args.values
    session_id = session[0] if session else None
    target = targets.resolve(args)
    try:
        percent = int(percent_text.rstrip("%"))
        if session_id is not None:
            get_session(target.table, session_id)
        store.set_threshold(target.table, percent, session_id, target.now())
    except ValueError as exc:
        return _refused(f"{percent_text}: {exc}")
    except SessionNotFoundError:
        return _refused(f"no session {session_id}")
    if session_id is None:
        print(f"series default: {percent}% of each session's scheduled minutes")
        return 0
    one = get_session(target.table, session_id).session
    minutes = store.threshold_minutes(target.table, one)
    print(f"{session_id}: {percent}% of {one.duration_minutes} minutes = {minutes} minute(s)")
    return 0


def list_command(args: argparse.Namespace) -> int:
    from shared.attendance import store
    from shared.programme.repository import SessionNotFoundError, get_session

    target = targets.resolve(args)
    try:
        session = get_session(target.table, args.session_id).session
    except SessionNotFoundError:
        return _refused(f"no session {args.session_id}")
    threshold = store.threshold_minutes(target.table, session)
    percent, origin = store.threshold_percent(target.table, session.session_id)
    records = store.session_attendance(target.table, session.session_id)
    print(
        f"{session.session_id}: {len(records)} attendance record(s); threshold {threshold} "
        f"minute(s) ({percent}%, {origin})"
    )
    for record in records:
        mark = "ok   " if record.minutes >= threshold else "under"
        note = f" ({record.reason})" if record.reason else ""
        print(f"  {mark} {record.minutes:>4} min  {record.email}  [{record.source}]{note}")
    for audit in store.import_audits(target.table, session.session_id):
        counts = audit.get("counts", {})
        what = (
            f"import {audit.get('source')} sha256 {str(audit.get('digest', ''))[:16]}... "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
            if audit["kind"] == "import"
            else f"correction {audit.get('email')}: {audit.get('previous_minutes')} -> "
            f"{audit.get('minutes')} ({audit.get('reason')})"
        )
        print(f"  {audit['at']}  by {audit['by']}: {what}")
    return 0


def caller_identity(target: targets.Target) -> str:
    """Who acts, for the audit: ``local`` on a local stack, else the caller's ARN (STS)."""
    if target.data_dir is not None or target.aws_endpoint_url:
        return "local"
    from shared.platform.clients import client

    return str(client("sts").get_caller_identity()["Arn"])


def _settings(target: targets.Target) -> Settings:
    from shared.platform.settings import Settings

    return Settings(table_name=target.table, event_bus_name=target.event_bus)


def _print_outcome(outcome: Outcome) -> None:
    print(
        f"{outcome.source} report: {outcome.rows} row(s); threshold {outcome.threshold} minute(s)"
    )
    print(f"matched: {len(outcome.matched)}")
    for person in outcome.matched:
        mark = "ok   " if person.minutes >= outcome.threshold else "under"
        status = "" if person.status == "confirmed" else f" (registration {person.status})"
        print(f"  {mark} {person.minutes:>4} min  {person.email}{status}")
    print(f"under the threshold: {len(outcome.under_threshold)}")
    print(f"registered no-shows: {len(outcome.no_shows)}")
    for email in outcome.no_shows:
        print(f"  {email}")
    print(
        f"unmatched rows (for review, not imported): {sum(len(u.lines) for u in outcome.unmatched)}"
    )
    for row in outcome.unmatched:
        lines = ", ".join(str(n) for n in row.lines)
        who = row.email or "(no email)"
        print(f"  line {lines}: {who}, {row.minutes} min: {row.reason}")
    if outcome.not_attended:
        print(f"rows marked not attended: {outcome.not_attended}")


def _refused(message: str) -> int:
    print(f"kbs attendance: refused: {message}", file=sys.stderr)
    return 1
