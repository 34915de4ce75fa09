"""The ``kbs`` console script: organiser commands and the local stack."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kbs.target import TargetError

# Each module defines ``register(subparsers)``; commands set ``func(args) -> int``.
COMMAND_MODULES = (
    "kbs.commands.sessions",
    "kbs.commands.materials",
    "kbs.commands.suppressions",
    "kbs.commands.registrants",
    "kbs.commands.local",
    "kbs.commands.dlq",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kbs", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TargetError as exc:
        print(f"kbs: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
