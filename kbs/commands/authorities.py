"""``kbs authorities alias|unalias|list``: spellings of one authority, for the reports.

Organisations are free text; reports group them by authority: normalised (case, spaces,
accents) and mapped by these aliases (:mod:`shared.reports.authorities`). An alias points to a
canonical name that is not itself an alias: chains and cycles are refused.
"""

from __future__ import annotations

import argparse
import sys

from kbs import target as targets
from kbs.table import print_table


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("authorities", help="aliases: spellings of one authority")
    commands = parser.add_subparsers(dest="authorities_command", required=True)
    alias = commands.add_parser("alias", help="map a spelling (VARIANT) to an AUTHORITY")
    alias.add_argument("variant")
    alias.add_argument("authority")
    targets.add_target_arguments(alias)
    alias.set_defaults(func=alias_command)
    unalias = commands.add_parser("unalias", help="forget the alias of VARIANT")
    unalias.add_argument("variant")
    targets.add_target_arguments(unalias)
    unalias.set_defaults(func=unalias_command)
    lister = commands.add_parser("list", help="every alias, by authority")
    targets.add_target_arguments(lister)
    lister.set_defaults(func=list_command)


def alias_command(args: argparse.Namespace) -> int:
    from shared.reports.authorities import AliasError, add_alias

    target = targets.resolve(args)
    try:
        alias = add_alias(target.table, args.variant, args.authority, target.now())
    except AliasError as exc:
        print(f"kbs: {exc}", file=sys.stderr)
        return 2
    print(f"{alias.variant!r} now counts as {alias.canonical!r}.")
    return 0


def unalias_command(args: argparse.Namespace) -> int:
    from shared.reports.authorities import remove_alias

    target = targets.resolve(args)
    if not remove_alias(target.table, args.variant):
        print(f"kbs: no alias for {args.variant!r}", file=sys.stderr)
        return 2
    print(f"{args.variant!r} is its own authority again.")
    return 0


def list_command(args: argparse.Namespace) -> int:
    from shared.reports.authorities import aliases

    target = targets.resolve(args)
    known = sorted(aliases(target.table), key=lambda a: (a.canonical.casefold(), a.variant))
    if not known:
        print("No aliases.")
        return 0
    print_table([("AUTHORITY", "VARIANT"), *((a.canonical, a.variant) for a in known)])
    return 0
