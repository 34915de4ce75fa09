"""Rules deliver through their queues like an event source mapping: partial batches, redrive.

In-process stack on test-only wiring, with a short visibility timeout and two receives before
the dead-letter queue, so redelivery shows within seconds.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.wiring import EventRule, Function
from kbs.local.delivery import DeliveryPolicy
from kbs.local.runtime import ACCOUNT_ID
from kbs.local.server import Names, moto_client
from tests.e2e import handlers
from tests.e2e.conftest import StartInProcess
from tests.e2e.support import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

ORDERS = EventRule("OrdersPlaced", {"source": ["test.orders"], "detail-type": ["Order Placed"]})
UPLOADS = EventRule(
    "MaterialsUploaded",
    {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [Names().bucket]}},
    },
    bus="default",
)
BATCH = Function(
    name="batch",
    handler="tests.e2e.handlers.batch",
    description="test-only queue consumer",
    triggers=(ORDERS, UPLOADS),
    timeout_seconds=1,
)
POLICY = DeliveryPolicy(visibility_timeout_factor=1, max_receive_count=2)


@pytest.fixture(scope="module")
def info(in_process: StartInProcess) -> dict[str, Any]:
    return in_process(BATCH, delivery=POLICY)


def put_orders(info: dict[str, Any], *details: dict[str, Any], source: str = "test.orders") -> None:
    events = moto_client("events", info["aws_endpoint_url"], info["region"])
    entries = [
        {
            "Source": source,
            "DetailType": "Order Placed",
            "Detail": json.dumps(detail),
            "EventBusName": info["event_bus"],
        }
        for detail in details
    ]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0


def records(detail_key: str, value: Any) -> list[dict[str, Any]]:
    """Every SQS record the handler got whose event detail has ``detail_key == value``."""
    return [
        record
        for event in handlers.received("batch")
        for record in event["Records"]
        if json.loads(record["body"])["detail"].get(detail_key) == value
    ]


def test_a_matching_event_arrives_as_an_sqs_record_holding_the_whole_event(
    info: dict[str, Any],
) -> None:
    put_orders(info, {"order": "one"})

    (record,) = wait_for(lambda: records("order", "one"), what="the record")
    queue_name = info["queues"][ORDERS.name].rsplit("/", 1)[-1]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == f"arn:aws:sqs:eu-west-1:{ACCOUNT_ID}:{queue_name}"
    assert record["awsRegion"] == "eu-west-1"
    assert record["messageId"] and record["receiptHandle"] and record["md5OfBody"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    event = json.loads(record["body"])
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert event["account"] == ACCOUNT_ID
    assert event["source"] == "test.orders"
    assert event["detail-type"] == "Order Placed"
    assert event["time"].endswith("Z")


def test_an_event_matching_no_rule_is_not_delivered(info: dict[str, Any]) -> None:
    put_orders(info, {"order": "elsewhere"}, source="test.other")
    put_orders(info, {"order": "marker"})

    wait_for(lambda: records("order", "marker"), what="the marker record")
    assert records("order", "elsewhere") == []


def test_failed_records_are_redelivered_then_dead_lettered_and_the_rest_deleted(
    info: dict[str, Any],
) -> None:
    put_orders(info, {"order": "good"}, {"order": "bad", "fail": True})
    sqs = moto_client("sqs", info["aws_endpoint_url"], info["region"])
    dead_letter_url = info["dead_letter_queues"][ORDERS.name]

    def dead_lettered() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=dead_letter_url, WaitTimeSeconds=1).get("Messages", [])

    (dead,) = wait_for(dead_lettered, timeout=20, what="the dead-lettered message")
    assert json.loads(dead["Body"])["detail"] == {"order": "bad", "fail": True}
    bad = records("order", "bad")
    assert [r["attributes"]["ApproximateReceiveCount"] for r in bad] == ["1", "2"]
    assert len(records("order", "good")) == 1  # deleted after its batch, never redelivered


def test_an_upload_to_the_bucket_reaches_a_default_bus_rule(info: dict[str, Any]) -> None:
    s3 = moto_client("s3", info["aws_endpoint_url"], info["region"])

    s3.put_object(Bucket=info["bucket"], Key="sessions/kbs-01/slides/deck.pdf", Body=b"%PDF")

    def uploads() -> list[dict[str, Any]]:
        return [
            json.loads(r["body"])
            for event in handlers.received("batch")
            for r in event["Records"]
            if json.loads(r["body"])["source"] == "aws.s3"
        ]

    (upload,) = wait_for(uploads, what="the Object Created event")
    assert upload["detail-type"] == "Object Created"
    assert upload["detail"]["object"]["key"] == "sessions/kbs-01/slides/deck.pdf"
    assert upload["account"] == ACCOUNT_ID
