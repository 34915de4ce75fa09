"""Shared fixtures: an in-process moto account with the resources the stack declares."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import translations
from shared.platform import clients

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
REGION = "eu-west-1"
TABLE_NAME = "kbs-test"
BUS_NAME = "kbs-test-bus"
BUCKET_NAME = "kbs-local-materials"  # the materials bucket the S3 samples in events/ name
SENDER = "series@example.org"
LINK_SECRET = "test-link-secret-0123456789abcdef"


def pytest_configure(config: pytest.Config) -> None:
    """Compile the gettext catalogs, as ``make`` and ``cdk synth`` do (a fresh clone has none)."""
    translations.compile_catalogs()


def load_event(relative: str) -> dict[str, Any]:
    """A sample payload from ``events/`` (real AWS shapes, shared with the local stack)."""
    return json.loads((EVENTS / relative).read_text())


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, our settings, and no real endpoint."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "KBS_TABLE_NAME": TABLE_NAME,
        "KBS_EVENT_BUS_NAME": BUS_NAME,
        "KBS_BUCKET_NAME": BUCKET_NAME,
        "KBS_SENDER_EMAIL": SENDER,
        "KBS_LINK_SECRET": LINK_SECRET,
        "KBS_PUBLIC_BASE_URL": "https://kbs.example.org",
        "POWERTOOLS_METRICS_NAMESPACE": "KnowledgeBuildingSeries",
        "POWERTOOLS_TRACE_DISABLED": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    from shared.platform.settings import get_settings

    get_settings.cache_clear()


@pytest.fixture
def aws(aws_env: None) -> Iterator[None]:
    """An in-process moto account with the table, the bus, the (versioned) materials bucket and
    a verified sender."""
    from moto import mock_aws

    from kbs.local.provisioning import create_table

    with mock_aws():
        clients.reset()
        create_table(TABLE_NAME)
        clients.client("events").create_event_bus(Name=BUS_NAME)
        s3 = clients.client("s3")
        s3.create_bucket(
            Bucket=BUCKET_NAME, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        s3.put_bucket_versioning(Bucket=BUCKET_NAME, VersioningConfiguration={"Status": "Enabled"})
        clients.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        yield
    clients.reset()


@pytest.fixture(scope="session", autouse=True)
def _aws_call_recorder() -> Iterator[Any]:
    """Records every AWS call a declared handler makes (:mod:`tests.aws_calls`)."""
    from tests.aws_calls import recording

    with recording() as recorder:
        yield recorder


@pytest.fixture(autouse=True)
def _calls_are_granted(_aws_call_recorder: Any) -> Iterator[None]:
    """Fails a test whose handlers made an AWS call their role is not granted."""
    from tests.aws_calls import check

    _aws_call_recorder.take()
    yield
    check(_aws_call_recorder.take())
