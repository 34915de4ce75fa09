"""The ``kbs`` console script: organiser commands and the local stack."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Iterator, Sequence

from kbs.target import TargetError

# Each module defines ``register(subparsers)``; commands set ``func(args) -> int``.
COMMAND_MODULES = (
    "kbs.commands.sessions",
    "kbs.commands.materials",
    "kbs.commands.suppressions",
    "kbs.commands.registrants",
    "kbs.commands.waitlist",
    "kbs.commands.local",
    "kbs.commands.dlq",
)
# Organiser tools print their answer; the Lambda code they share logs for CloudWatch, so only
# its warnings show here (``kbs serve`` keeps its one line per handled event).
ORGANISER_COMMANDS = frozenset(
    {"sessions", "materials", "suppressions", "registrants", "waitlist", "dlq"}
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kbs", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with _quiet() if args.command in ORGANISER_COMMANDS else contextlib.nullcontext():
        try:
            return int(args.func(args) or 0)
        except TargetError as exc:
            print(f"kbs: {exc}", file=sys.stderr)
            return 2


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Only warnings from the shared code's logger while a command runs."""
    from shared.platform.observability import logger

    level = logger.log_level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
