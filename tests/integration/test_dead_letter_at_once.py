"""A record that can never succeed goes to the dead-letter queue at once (issue 12, item 10).

On moto, through the declared rule and queue and the real registration processor: an event of
the right type with a malformed detail is dead-lettered on its first delivery, with the reason
and its source queue as message attributes, and acknowledged; ``kbs dlq list`` shows the reason
and ``kbs dlq redrive`` sends it back to its queue. A transient failure keeps the retry path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.wiring import DEAD_LETTER_QUEUES_VARIABLE
from kbs.cli import main
from shared.platform.clients import client
from shared.platform.records import REASON_ATTRIBUTE, SOURCE_ATTRIBUTE
from shared.platform.settings import get_settings
from tests.conftest import BUS_NAME, load_event
from tests.integration.fault_harness import RULE, Pipeline, client_error, fail_calls
from tests.support import local_stack_file

SUBMITTED = load_event("bus/registration-submitted.json")


@pytest.fixture
def pipeline(aws: None, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    """The pipeline, its processor told where its queue's dead letters go (as the stack does)."""
    pipeline = Pipeline()
    monkeypatch.setenv(
        DEAD_LETTER_QUEUES_VARIABLE,
        json.dumps({pipeline._arn(pipeline.url): pipeline.dead_letter_url}),
    )
    get_settings.cache_clear()
    return pipeline


def put_on_bus(detail: object) -> None:
    """A "Registration Submitted" event with ``detail`` on the bus, as a publisher would."""
    (entry,) = [
        {
            "Source": SUBMITTED["source"],
            "DetailType": SUBMITTED["detail-type"],
            "Detail": json.dumps(detail),
            "EventBusName": BUS_NAME,
        }
    ]
    assert client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0


def dead_letters_with_attributes(pipeline: Pipeline) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = (
        client("sqs")
        .receive_message(
            QueueUrl=pipeline.dead_letter_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
        )
        .get("Messages", [])
    )
    return messages


def test_a_malformed_detail_is_dead_lettered_on_its_first_delivery_and_redriven_by_the_cli(
    pipeline: Pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    detail = json.loads(json.dumps(SUBMITTED["detail"]))
    detail["data"]["sessions"] = "not-a-list"  # right type, malformed detail
    put_on_bus(detail)

    assert pipeline.deliver() == 1
    assert pipeline.invocations == 1 and pipeline.failed_records == 0  # no retries
    (letter,) = dead_letters_with_attributes(pipeline)
    attributes = letter["MessageAttributes"]
    assert isinstance(attributes, dict)
    reason = attributes[REASON_ATTRIBUTE]["StringValue"]
    assert reason.startswith("malformed record: ") and "detail.data.sessions" in reason
    assert "not-a-list" not in reason  # the field, never its value
    assert attributes[SOURCE_ATTRIBUTE]["StringValue"] == pipeline._arn(pipeline.url)
    assert json.loads(str(letter["Body"]))["detail"] == detail  # the record, unchanged

    data_dir = local_stack_file(
        tmp_path,
        pid=os.getpid(),
        queues={RULE.name: pipeline.url},
        dead_letter_queues={RULE.name: pipeline.dead_letter_url},
    )
    capsys.readouterr()
    assert main(["dlq", "list", "--show", "--local", str(data_dir)]) == 0
    assert "detail.data.sessions" in capsys.readouterr().out
    assert main(["dlq", "redrive", "registration_processor", "--local", str(data_dir)]) == 0
    assert pipeline.dead_letters() == 0
    (back,) = client("sqs").receive_message(
        QueueUrl=pipeline.url, VisibilityTimeout=0, MessageAttributeNames=["All"]
    )["Messages"]
    assert json.loads(back["Body"])["detail"] == detail
    assert REASON_ATTRIBUTE not in back.get("MessageAttributes", {})  # judged afresh


def test_a_transient_failure_keeps_the_retry_path_and_the_ses_refusal_is_logged_by_its_code(
    pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    """SES throttles the first confirmation: the record is retried (not dead-lettered), then
    booked and confirmed; the refusal is logged with SES's error code, never the address."""
    fail_calls(
        client("sesv2"),
        "SendEmail",
        {1: client_error("TooManyRequestsException", "SendEmail")},
    )
    assert pipeline.post("buyer@authority.example.eu", pipeline.session_ids[:1]).status == 202
    pipeline.deliver()
    assert pipeline.failed_records >= 1
    assert pipeline.dead_letters() == 0
    assert sum(pipeline.registrations().values()) == 1
    assert len(pipeline.emails()) == 1
    (refusal,) = [r for r in caplog.records if r.getMessage() == "SES refused the email"]
    assert vars(refusal)["error_code"] == "TooManyRequestsException"
    logged = " ".join(str(vars(r)) for r in caplog.records)
    assert "buyer@" not in logged and "authority.example" not in logged


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    field=st.sampled_from(["metadata", "data", "data.email", "data.sessions"]),
    value=st.one_of(
        st.none(),
        st.integers(),
        st.booleans(),
        st.lists(st.integers(), min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(["x", "y"]), st.integers(), max_size=2),
    ),
)
def test_any_malformed_detail_goes_to_the_dead_letter_queue_at_once(
    pipeline: Pipeline, field: str, value: object
) -> None:
    detail = json.loads(json.dumps(SUBMITTED["detail"]))
    *path, last = field.split(".")
    target = detail
    for part in path:
        target = target[part]
    target[last] = value
    invocations, dead = pipeline.invocations, pipeline.dead_letters()
    put_on_bus(detail)

    assert pipeline.deliver() == 1
    assert pipeline.invocations == invocations + 1  # one delivery, no retry
    assert pipeline.dead_letters() == dead + 1
    assert sum(pipeline.registrations().values()) == 0
