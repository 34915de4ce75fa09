"""Where an organiser command acts: a running local stack (`--local`) or a deployed one.

Both paths use the same boto3 code; only the endpoint and resource names differ.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.platform.settings import Settings

DEFAULT_DATA_DIR = ".kbs"


class TargetError(RuntimeError):
    """The target stack cannot be found or is not running."""


@dataclass(frozen=True)
class Target:
    table: str
    event_bus: str
    bucket: str
    region: str
    api_url: str
    aws_endpoint_url: str | None = None
    data_dir: Path | None = None
    clock: datetime | None = None
    """A local stack's simulated time (``kbs tick``); ``None``: real time."""

    def now(self) -> datetime:
        """The target's time: the simulated one of a local stack on ``kbs tick``, else real."""
        return self.clock or datetime.now(UTC)

    environment: tuple[tuple[str, str], ...] = ()
    """The ``KBS_*`` settings the stack's functions run with, as far as known here."""

    def settings(self) -> Settings:
        """The functions' settings, for a command that does what a function would (send an
        email with the registrant's links): the stack's, over this process's ``KBS_*``."""
        from shared.platform.settings import Settings

        names = {"KBS_TABLE_NAME": self.table, "KBS_EVENT_BUS_NAME": self.event_bus}
        return Settings.from_environment({**os.environ, **dict(self.environment), **names})

    def activate(self) -> None:
        """Point boto3 (and our cached clients) at this target."""
        from shared.platform.clients import reset

        os.environ["AWS_DEFAULT_REGION"] = self.region
        if self.aws_endpoint_url:
            os.environ["AWS_ENDPOINT_URL"] = self.aws_endpoint_url
            # moto accepts any credentials; never let a real profile leak into local use.
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        reset()


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--local",
        nargs="?",
        const=DEFAULT_DATA_DIR,
        metavar="DATA_DIR",
        help=f"a running kbs serve (default data dir {DEFAULT_DATA_DIR})",
    )
    group.add_argument("--stack", metavar="NAME", help="a deployed CloudFormation stack")


def local_target(data_dir: str | Path) -> Target:
    path = Path(data_dir) / "local.json"
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise TargetError(f"no local stack at {path}: start one with `kbs serve`") from exc
    return Target(
        table=info["table"],
        event_bus=info["event_bus"],
        bucket=info["bucket"],
        region=info["region"],
        api_url=info["api_url"],
        aws_endpoint_url=info["aws_endpoint_url"],
        data_dir=Path(data_dir),
        clock=None if info.get("clock", "real") == "real" else parse_clock(info["clock"]),
        environment=tuple(info.get("environment", {}).items()),
    )


def parse_clock(text: str) -> datetime:
    """``local.json``'s ``clock`` (``YYYY-MM-DDTHH:MM:SSZ``) as an aware UTC time."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def stack_target(name: str) -> Target:
    """Resource names from the stack's CloudFormation outputs (needs IAM credentials)."""
    import boto3

    stacks = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    try:
        return Target(
            table=outputs["TableName"],
            event_bus=outputs["EventBusName"],
            bucket=outputs.get("MaterialsBucketName", ""),
            region=boto3.session.Session().region_name or "eu-west-1",
            api_url=outputs["ApiUrl"],
            environment=(
                ("KBS_PUBLIC_BASE_URL", outputs["ApiUrl"].rstrip("/")),
                ("KBS_LINK_SECRET_NAME", outputs.get("LinkSecretName", "")),
                ("KBS_CONFIGURATION_SET", outputs.get("ConfigurationSetName", "")),
                ("KBS_EMAIL_BATCHES_QUEUE_URL", outputs.get("EmailBatchesQueueUrl", "")),
            ),
        )
    except KeyError as exc:
        raise TargetError(f"stack {name} has no output {exc}") from exc


def resolve(args: argparse.Namespace) -> Target:
    """The target named on the command line (``--local`` by default), activated."""
    if args.stack:
        target = stack_target(args.stack)
    else:
        target = local_target(args.local or DEFAULT_DATA_DIR)
    target.activate()
    return target


def require_session(table_name: str, session_id: str) -> None:
    """Raise :class:`TargetError` if the programme in ``table_name`` has no ``session_id`` (a
    listing of an unknown session is a typo, not an empty list)."""
    from shared.programme.repository import SessionNotFoundError, get_session

    try:
        get_session(table_name, session_id)
    except SessionNotFoundError:
        raise TargetError(f"no session {session_id} (kbs sessions list shows them)") from None
