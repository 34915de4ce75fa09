"""``kbs dlq list|redrive`` on moto, through the real ``--local DATA_DIR`` target: a record that
failed for good is listed without its content, and once the cause is gone it is redriven and
processed once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from botocore.stub import Stubber

from kbs import dead_letters
from kbs.cli import main
from shared.platform.clients import client
from tests.integration.fault_harness import RULE, Pipeline, ProcessDied, fail_calls
from tests.support import local_stack_file

REGISTRANTS = [f"buyer.{n}@authority.example.eu" for n in range(3)]


@pytest.fixture
def pipeline(aws: None) -> Pipeline:
    return Pipeline()


@pytest.fixture
def data_dir(tmp_path: Path, pipeline: Pipeline) -> Path:
    """The ``local.json`` of a local stack whose queues are the pipeline's (in-process moto)."""
    return local_stack_file(
        tmp_path,
        pid=os.getpid(),
        queues={RULE.name: pipeline.url},
        dead_letter_queues={RULE.name: pipeline.dead_letter_url},
    )


def poisoned(pipeline: Pipeline) -> None:
    """Registrant 0's confirmation crashes its process, and every redelivery comes before the
    claim it left has lapsed: the record reaches the dead-letter queue."""
    fail_calls(client("sesv2"), "SendEmail", {1: ProcessDied("killed")})
    for email in REGISTRANTS:
        assert pipeline.post(email, pipeline.session_ids[:1]).status == 202
    pipeline._time_passes = lambda: None  # type: ignore[method-assign]
    pipeline.deliver()
    del pipeline._time_passes  # time passes again from now on
    assert pipeline.dead_letters() == 1


def test_given_a_dead_letter_when_listed_then_its_trigger_count_id_and_type_show_never_its_body(
    pipeline: Pipeline, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    poisoned(pipeline)
    capsys.readouterr()

    assert main(["dlq", "list", "--show", "--local", str(data_dir)]) == 0

    out = capsys.readouterr().out
    (message,) = client("sqs").receive_message(
        QueueUrl=pipeline.dead_letter_url, VisibilityTimeout=0
    )["Messages"]
    header, row = out.splitlines()[:2]
    assert header.split()[:3] == ["TRIGGER", "FUNCTION", "MESSAGES"]
    assert row.split()[:3] == [RULE.name, "registration_processor", "1"]
    assert message["MessageId"] in out and "Registration Submitted" in out
    body = json.loads(message["Body"])["detail"]["data"]
    for personal in (body["email"], body["full_name"], body["organisation"], "@"):
        assert personal not in out
    assert pipeline.dead_letters() == 1, "listing leaves the messages in place"


def test_given_the_cause_is_gone_when_redriven_then_the_record_is_processed_once(
    pipeline: Pipeline, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    poisoned(pipeline)
    pipeline._time_passes()  # the claim the crash left lapses

    assert main(["dlq", "redrive", "registration_processor", "--local", str(data_dir)]) == 0
    pipeline.deliver()
    assert main(["dlq", "redrive", "--all", "--local", str(data_dir)]) == 0

    out = capsys.readouterr().out
    assert f"{RULE.name}: 1 message(s) moved back" in out
    assert f"{RULE.name}: 0 message(s) moved back" in out
    assert pipeline.dead_letters() == 0
    assert pipeline.registrations() == {(pipeline.session_ids[0], e): 1 for e in REGISTRANTS}
    assert {to for to, _, _ in pipeline.emails()} == set(REGISTRANTS)
    assert set(pipeline.emails().values()) == {1}


def test_redrive_of_an_unknown_queue_names_the_known_ones(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dlq", "redrive", "nope", "--local", str(data_dir)]) == 2
    assert RULE.name in capsys.readouterr().err


def test_redrive_moves_each_message_once_and_no_more_than_the_queue_held(aws: None) -> None:
    sqs = client("sqs")
    source = sqs.create_queue(QueueName="source")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="source-dlq")["QueueUrl"]
    bodies = {json.dumps({"detail-type": "T", "n": n}) for n in range(25)}
    for body in bodies:
        sqs.send_message(QueueUrl=dlq, MessageBody=body)
    queue = dead_letters.DeadLetterQueue("T", "f", dlq, source_queue_url=source)

    result = dead_letters.redrive(sqs, queue)

    assert (result.moved, result.failed) == (25, 0)
    moved = []
    while batch := sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10).get("Messages"):
        moved += [m["Body"] for m in batch]
        sqs.delete_message_batch(
            QueueUrl=source,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
            ],
        )
    assert sorted(moved) == sorted(bodies)
    assert dead_letters.depth(sqs, queue).visible == 0


def test_async_dead_letters_are_invoked_again_as_their_original_events(aws: None) -> None:
    """A scheduled function's dead letters (bodies: the events) go back as async invocations;
    the request shape is the point, so the Lambda client is stubbed (moto runs no Lambda)."""
    sqs = client("sqs")
    dlq = sqs.create_queue(QueueName="clock-async-dlq")["QueueUrl"]
    tick = json.dumps({"detail-type": "Scheduled Event", "time": "2026-12-01T09:00:00Z"})
    sqs.send_message(QueueUrl=dlq, MessageBody=tick)
    queue = dead_letters.DeadLetterQueue("SessionClock", "session_clock", dlq, function_name="fn")
    lambda_client = client("lambda")

    with Stubber(lambda_client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 202},
            {"FunctionName": "fn", "InvocationType": "Event", "Payload": tick.encode()},
        )
        result = dead_letters.redrive(sqs, queue, lambda_client=lambda_client)
        stub.assert_no_pending_responses()

    assert (result.moved, result.failed) == (1, 0)
    assert dead_letters.depth(sqs, queue).visible == 0
