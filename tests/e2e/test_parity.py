"""Every trigger in the wiring declaration is reachable on the local stack (``kbs serve``).

The cases are computed from :mod:`infra.wiring` and the sample events in ``events/``: a new
route or rule is covered without touching this file (and fails here if it has no sample).
"""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from infra.wiring import (
    FUNCTIONS,
    EventRule,
    Function,
    HttpRoute,
    WorkQueue,
    queue_url_variable,
    resolved_pattern,
    work_queues,
)
from kbs.local.delivery import DeliveryPolicy
from kbs.local.server import Names, moto_client
from tests.conftest import EVENTS
from tests.e2e.support import Served, http, kbs, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SAMPLE_PROGRAMME = EVENTS / "programme.sample.json"
ROUTES = [(fn, route) for fn in FUNCTIONS for route in fn.of_kind(HttpRoute)]
RULES = [(fn, rule) for fn in FUNCTIONS for rule in fn.of_kind(EventRule)]
WORK_QUEUES = list(work_queues(FUNCTIONS).values())


def bus_events() -> list[tuple[Path, dict[str, Any]]]:
    """The sample EventBridge events in ``events/`` (files holding one bare event)."""
    samples = []
    for path in sorted(EVENTS.rglob("*.json")):
        event = json.loads(path.read_text())
        if isinstance(event, dict) and {"source", "detail-type", "detail"} <= event.keys():
            samples.append((path, event))
    return samples


def sample_for(rule: EventRule) -> dict[str, Any]:
    # The local stack fills the bucket placeholder with its bucket, as the S3 samples name it.
    pattern = EventPattern.load(json.dumps(resolved_pattern(rule.pattern, bucket=Names().bucket)))
    for _, event in bus_events():
        if pattern.matches_event(event):  # type: ignore[arg-type]
            return event
    raise AssertionError(f"no sample event in events/ matches rule {rule.name}: add one")


def concrete(path: str) -> str:
    """A request path for a route path: each ``{variable}`` becomes ``sample``."""
    return re.sub(r"\{[^}]+\}", "sample", path)


def import_sample_programme(stack: Served) -> None:
    result = kbs("sessions", "import", str(SAMPLE_PROGRAMME), "--local", str(stack.data_dir))
    assert result.returncode == 0, result.stderr


def test_every_declared_route_reaches_its_function(stack: Served) -> None:
    assert ROUTES, "the declaration has no HTTP route"
    for fn, route in ROUTES:
        reply = http(route.method, stack.api_url + concrete(route.path))

        assert reply.status < 500, (route.route_key, reply.status, reply.body[:300])
        handled = wait_for(partial(stack.handled, fn.name, route.route_key))
        assert handled[-1]["status"] == reply.status


def test_an_undeclared_route_is_api_gateways_404(stack: Served) -> None:
    reply = http("GET", f"{stack.api_url}/no/such/route")

    assert reply.status == 404
    assert reply.json() == {"message": "Not Found"}
    assert not [line for line in stack.log_lines() if "function" in line]


@pytest.mark.parametrize(("fn", "rule"), RULES, ids=[rule.name for _, rule in RULES])
def test_every_rule_delivers_a_matching_sample_event(
    stack: Served, fn: Function, rule: EventRule
) -> None:
    import_sample_programme(stack)
    sample = sample_for(rule)
    info = stack.info
    queue = info["queues"][rule.name].rsplit("/", 1)[-1]

    _publish(info, rule, sample)

    handled = wait_for(lambda: stack.handled(fn.name, f"sqs {queue}"), timeout=30)
    assert handled[0]["records"] == 1
    assert handled[0]["outcome"] == "ok", handled


def _publish(info: dict[str, Any], rule: EventRule, sample: dict[str, Any]) -> None:
    """Send ``sample`` the way its source does: S3 events by an upload, others by PutEvents."""
    region, endpoint = info["region"], info["aws_endpoint_url"]
    if sample["source"] == "aws.s3":
        key = sample["detail"]["object"]["key"]
        moto_client("s3", endpoint, region).put_object(Bucket=info["bucket"], Key=key, Body=b"x")
        return
    entry = {
        "Source": sample["source"],
        "DetailType": sample["detail-type"],
        "Detail": json.dumps(sample["detail"]),
        "Resources": sample.get("resources", []),
        "EventBusName": info["event_bus"] if rule.bus == "app" else "default",
    }
    response = moto_client("events", endpoint, region).put_events(Entries=[entry])
    assert response["FailedEntryCount"] == 0


def work_sample(queue: WorkQueue) -> str:
    """The body of ``events/sqs/{queue name, kebab-case}.json``: a message the queue carries."""
    path = EVENTS / "sqs" / f"{re.sub(r'(?<!^)(?=[A-Z])', '-', queue.name).lower()}.json"
    assert path.exists(), f"no sample message for work queue {queue.name}: add {path.name}"
    (record,) = json.loads(path.read_text())["Records"]
    return str(record["body"])


@pytest.mark.parametrize(("fn", "queue"), WORK_QUEUES, ids=[q.name for _, q in WORK_QUEUES])
def test_every_work_queue_is_provisioned_and_delivers_a_sample_message(
    stack: Served, fn: Function, queue: WorkQueue
) -> None:
    import_sample_programme(stack)
    info = stack.info
    url = info["queues"][queue.name]
    sqs = moto_client("sqs", info["aws_endpoint_url"], info["region"])
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    policy = DeliveryPolicy()
    dead_letters = info["dead_letter_queues"][queue.name].rsplit("/", 1)[-1]

    sqs.send_message(QueueUrl=url, MessageBody=work_sample(queue))

    handled = wait_for(lambda: stack.handled(fn.name, f"sqs {url.rsplit('/', 1)[-1]}"), timeout=30)
    assert handled[0]["records"] == 1
    assert handled[0]["outcome"] == "ok", handled
    assert [f for f in FUNCTIONS if queue.name in f.access.send_to], "nothing sends to it"
    assert info["environment"][queue_url_variable(queue.name)] == url
    timeout = int(attributes["VisibilityTimeout"])
    assert timeout == policy.visibility_timeout_factor * fn.timeout_seconds
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == policy.max_receive_count
    assert redrive["deadLetterTargetArn"].endswith(f":{dead_letters}")


def test_kbs_invoke_runs_a_handler_on_a_sample_event(stack: Served) -> None:
    import_sample_programme(stack)
    local = ("--local", str(stack.data_dir))

    fn, rule = RULES[0]

    sessions = kbs("invoke", "api", str(EVENTS / "api" / "get-sessions.json"), *local)
    delivered = kbs("invoke", fn.name, str(_sample_path(rule)), *local)  # wrapped in SQS

    assert sessions.returncode == 0, sessions.stderr
    result = json.loads(sessions.stdout)
    assert result["statusCode"] == 200
    assert len(json.loads(result["body"])) == 7
    assert delivered.returncode == 0, delivered.stderr
    assert json.loads(delivered.stdout) == {"batchItemFailures": []}


def _sample_path(rule: EventRule) -> Path:
    sample = sample_for(rule)
    return next(path for path, event in bus_events() if event == sample)


def test_queues_and_delivery_are_configured_as_in_the_cdk_stack() -> None:
    from infra.constructs import event_rule_trigger, queues

    policy = DeliveryPolicy()

    assert policy.batch_size == event_rule_trigger.BATCH_SIZE
    assert policy.visibility_timeout_factor == event_rule_trigger.VISIBILITY_TIMEOUT_FACTOR
    assert policy.max_receive_count == queues.MAX_RECEIVE_COUNT
    assert policy.dead_letter_retention_days == queues.DEAD_LETTER_RETENTION.to_days()
