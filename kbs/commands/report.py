"""``kbs report registrations|series``: who took part, per session, authority and country.

Read with Query only (the programme, then each session's partition: :mod:`shared.reports.rows`).
Printed as aligned tables, or written as CSV (formula-like cells made inert) or XLSX (text
cells; ``--out`` required, it is binary): :mod:`shared.reports.writers`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kbs import target as targets
from kbs.table import print_table

if TYPE_CHECKING:
    from shared.reports.writers import Table

FORMATS = ("table", "csv", "xlsx")
STATUSES = ("confirmed", "waitlisted", "cancelled", "all")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("report", help="registrations and series coverage reports")
    commands = parser.add_subparsers(dest="report_command", required=True)
    registrations = commands.add_parser(
        "registrations", help="one row per registration (all sessions, or one)"
    )
    registrations.add_argument("--session", metavar="ID", help="one session only")
    registrations.add_argument("--status", choices=STATUSES, default="all")
    _add_output(registrations)
    registrations.set_defaults(func=registrations_command)
    series = commands.add_parser(
        "series", help="per session, authority, country; totals per year and series"
    )
    _add_output(series)
    series.set_defaults(func=series_command)


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--out", metavar="FILE", type=Path, help="write here (xlsx: required)")
    targets.add_target_arguments(parser)


def registrations_command(args: argparse.Namespace) -> int:
    from shared.programme.repository import SessionNotFoundError
    from shared.reports.rows import StatusFilter, registrations_table, series_data

    if (code := _check_output(args)) is not None:
        return code
    target = targets.resolve(args)
    try:
        data = series_data(target.table, args.session)
    except SessionNotFoundError:
        print(f"kbs: no session {args.session}", file=sys.stderr)
        return 2
    return _emit(args, [registrations_table(target.table, data, StatusFilter(args.status))])


def series_command(args: argparse.Namespace) -> int:
    from shared.reports.authorities import Resolver, aliases
    from shared.reports.rows import series_data
    from shared.reports.series import coverage

    if (code := _check_output(args)) is not None:
        return code
    target = targets.resolve(args)
    series = coverage(series_data(target.table), Resolver(aliases(target.table)))
    return _emit(args, series.tables())


def _check_output(args: argparse.Namespace) -> int | None:
    """Exit 2 (and say why) for an output the report cannot be written to, before reading."""
    problem = None
    if args.format == "xlsx" and args.out is None:
        problem = "--format xlsx needs --out FILE (it is binary)"
    elif args.out is not None and (str(args.out) == "-" or args.out.is_dir()):
        problem = f"--out {args.out}: name a file (without --out, table and csv go to stdout)"
    elif args.out is not None and not args.out.parent.is_dir():
        problem = f"--out {args.out}: no folder {args.out.parent}"
    if problem:
        print(f"kbs: {problem}", file=sys.stderr)
        return 2
    return None


def _emit(args: argparse.Namespace, tables: Sequence[Table]) -> int:
    from shared.reports.writers import to_csv, write_xlsx

    if args.format == "xlsx":
        write_xlsx(tables, args.out)
        print(f"Wrote {args.out} ({', '.join(f'{t.title}: {len(t.rows)} row(s)' for t in tables)})")
        return 0
    if args.format == "csv":
        text = to_csv(tables)
        if args.out is None:
            sys.stdout.write(text)
        else:
            args.out.write_text(text, encoding="utf-8", newline="")
            print(f"Wrote {args.out}")
        return 0
    for n, tab in enumerate(tables):
        if n:
            print()
        if len(tables) > 1:
            print(f"{tab.title.capitalize()}")
        if tab.rows:
            print_table([tab.header, *tab.rows])
        else:
            print("(none)")
    return 0
