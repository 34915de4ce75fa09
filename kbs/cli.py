"""The ``kbs`` console script: organiser commands and the local stack.

Help texts are plain text (argparse prints them as written): no reStructuredText markup.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Sequence

from kbs.target import TargetError

# Each module defines ``register(subparsers)``; commands set ``func(args) -> int``.
COMMAND_MODULES = (
    "kbs.commands.sessions",
    "kbs.commands.materials",
    "kbs.commands.suppressions",
    "kbs.commands.registrants",
    "kbs.commands.attendance",
    "kbs.commands.certificates",
    "kbs.commands.waitlist",
    "kbs.commands.report",
    "kbs.commands.authorities",
    "kbs.commands.message",
    "kbs.commands.local",
    "kbs.commands.dlq",
    "kbs.commands.outbox",
    "kbs.commands.doctor",
)
# Organiser tools print their answer; the Lambda code they share logs for CloudWatch, so only
# its warnings show here (``kbs serve`` keeps its one line per handled event).
ORGANISER_COMMANDS = frozenset(
    {
        "sessions",
        "materials",
        "suppressions",
        "registrants",
        "attendance",
        "certificates",
        "waitlist",
        "report",
        "authorities",
        "message",
        "dlq",
        "outbox",
        "doctor",
    }
)


DESCRIPTION = (
    "Organiser commands for the Knowledge Building Series, and the local stack they can "
    "drive (kbs serve). Commands other than serve act on a running local stack "
    "(--local [DATA_DIR], the default) or a deployed one (--stack NAME)."
)
# What a shell reports for a process ended by SIGPIPE (128 + 13), as ``head`` expects.
BROKEN_PIPE_STATUS = 141


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kbs", description=DESCRIPTION)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import NoCredentialsError, NoRegionError

    args = build_parser().parse_args(argv)
    try:
        with _quiet() if args.command in ORGANISER_COMMANDS else contextlib.nullcontext():
            try:
                code = int(args.func(args) or 0)
            except TargetError as exc:
                print(f"kbs: {exc}", file=sys.stderr)
                return 2
            except (NoRegionError, NoCredentialsError) as exc:  # --stack without AWS settings
                print(f"kbs: {exc}: {AWS_SETTINGS_HINT}", file=sys.stderr)
                return 2
        sys.stdout.flush()  # a reader gone shows here, not at exit
    except BrokenPipeError:
        return _reader_gone()
    return code


AWS_SETTINGS_HINT = (
    "--stack needs an AWS account: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY) and AWS_DEFAULT_REGION, or use --local for the local stack"
)


def _reader_gone() -> int:
    """The reader of stdout went away (``kbs sessions list | head``): stop quietly, as Unix
    tools do. stdout now goes nowhere, so the interpreter's last flush raises nothing."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return BROKEN_PIPE_STATUS


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
