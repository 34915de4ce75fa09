"""Replay: every bus event sample in ``events/bus/``, delivered twice to the functions whose
declared rules match it, changes nothing the second time (no item, email or event more).

EventBridge and SQS deliver at least once, so this is the contract every consumer keeps.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from moto.events.models import EventPattern

from infra.wiring import FUNCTIONS, EventRule, Function, resolved_pattern
from shared.platform.clients import client, table
from shared.platform.event_types import SOURCE_REGISTRATIONS, SOURCE_SESSIONS
from shared.programme.catalogue import load_programme
from shared.programme.repository import put_session
from tests.conftest import BUCKET_NAME, BUS_NAME, EVENTS, TABLE_NAME
from tests.support import (
    Context,
    attended_session,
    freed_place_with_a_waitlist,
    handler_of,
    sent_emails,
    sqs_batch,
)

SAMPLES = sorted((EVENTS / "bus").glob("*.json"))
# State a sample presumes beyond the sample programme, set up before it is delivered.
GIVEN = {
    "registration-cancelled": freed_place_with_a_waitlist,
    "attendance-recorded": attended_session,
}


def consumers(event: dict[str, Any]) -> list[Function]:
    """The declared functions with a rule whose pattern matches ``event``."""
    return [
        fn
        for fn in FUNCTIONS
        if any(
            EventPattern.load(
                json.dumps(resolved_pattern(rule.pattern, bucket=BUCKET_NAME))
            ).matches_event(event)
            for rule in fn.of_kind(EventRule)
        )
    ]


@pytest.fixture
def published(aws: None) -> str:
    """A queue receiving every event our code publishes on the bus."""
    url = client("sqs").create_queue(QueueName="published")["QueueUrl"]
    arn = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    client("events").put_rule(
        Name="all-ours",
        EventBusName=BUS_NAME,
        EventPattern=json.dumps({"source": [SOURCE_REGISTRATIONS, SOURCE_SESSIONS]}),
    )
    client("events").put_targets(
        Rule="all-ours",
        EventBusName=BUS_NAME,
        Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}],
    )
    return str(url)


def with_object(event: dict[str, Any]) -> dict[str, Any]:
    """An S3 sample's object put in the bucket (its bytes from ``events/s3/{key}``), and the
    sample with the version id S3 gave it; other samples as they are."""
    if event["source"] != "aws.s3":
        return event
    detail = event["detail"]
    key = unquote_plus(detail["object"]["key"])
    put = client("s3").put_object(
        Bucket=detail["bucket"]["name"], Key=key, Body=(EVENTS / "s3" / key).read_bytes()
    )
    s3_object = {**detail["object"], "version-id": put["VersionId"]}
    return {**event, "detail": {**detail, "object": s3_object}}


def snapshot(published_queue: str) -> tuple[list[dict[str, Any]], int, int]:
    """Every item (a test may Scan), emails sent, events published so far."""
    items = table(TABLE_NAME).scan()["Items"]
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=published_queue, AttributeNames=["ApproximateNumberOfMessages"]
    )
    events = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return sorted(items, key=lambda i: (i["PK"], i["SK"])), len(sent_emails()), events


def test_every_sample_has_a_consumer() -> None:
    assert SAMPLES
    for sample in SAMPLES:
        assert consumers(json.loads(sample.read_text())), f"{sample.name} reaches no function"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: Path(p).stem)
def test_a_replayed_sample_changes_nothing(sample: Path, published: str) -> None:
    # Given the sample programme, imported at the event's time
    event = json.loads(sample.read_text())
    now = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    for session in load_programme(EVENTS / "programme.sample.json", now):
        put_session(TABLE_NAME, session)
    if sample.stem in GIVEN:
        GIVEN[sample.stem](now)
    event = with_object(event)
    before = snapshot(published)

    # When the event is delivered, then delivered again (a new SQS message, same event)
    for fn in consumers(event):
        assert handler_of(fn)(sqs_batch(event), Context())["batchItemFailures"] == []
    first = snapshot(published)
    for fn in consumers(event):
        assert handler_of(fn)(sqs_batch(event), Context())["batchItemFailures"] == []

    # Then the first delivery did something, and the second nothing at all
    assert first != before
    assert snapshot(published) == first
