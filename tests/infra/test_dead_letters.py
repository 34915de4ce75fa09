"""Every async path ends in a dead-letter queue with an alarm, and ``kbs dlq`` can find it.

Derived from the declaration: for each trigger of each function in ``infra.wiring`` (and the
test-only exerciser), whatever kind, the path it implies is checked end to end, so a function
added to the wiring is covered without touching this file.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import wiring
from infra.stack import DEAD_LETTERS_OUTPUT_PREFIX
from kbs import dead_letters
from tests.infra.cfn import Synth, as_list, ref

pytestmark = pytest.mark.xdist_group("synth")

SYNCHRONOUS = (wiring.HttpRoute,)
"""API Gateway invokes these synchronously: a failure is an HTTP status, never a lost event."""


def rule_for(synth: Synth, trigger: wiring.EventRule | wiring.Schedule, fn: wiring.Function) -> Any:
    """The template's rule for a declared trigger (the constructs describe it so)."""
    (rule,) = [
        r
        for r in synth.of_type("AWS::Events::Rule").values()
        if r["Properties"].get("Description") == f"{trigger.name} -> {fn.name}"
    ]
    return rule["Properties"]


def function_id(synth: Synth, fn: wiring.Function) -> str:
    (found,) = [
        logical_id
        for logical_id, f in synth.of_type("AWS::Lambda::Function").items()
        if f["Properties"]["Handler"] == fn.handler
    ]
    return found


def drained_queues(synth: Synth, fn: wiring.Function) -> set[str]:
    """The queues event source mappings drain into ``fn``."""
    return {
        str(ref(m["Properties"]["EventSourceArn"]))
        for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if ref(m["Properties"]["FunctionName"]) == function_id(synth, fn)
    }


def dead_letters_of(synth: Synth, queue_id: str) -> str:
    """The dead-letter queue of ``queue_id``'s redrive policy (at most 10 receives)."""
    policy = synth.resources[queue_id]["Properties"]["RedrivePolicy"]
    assert 1 <= policy["maxReceiveCount"] <= 10
    dlq = ref(policy["deadLetterTargetArn"])
    assert dlq and synth.resources[dlq]["Type"] == "AWS::SQS::Queue"
    return dlq


def alarmed(synth: Synth) -> set[str]:
    """Queues with an alarm on their first visible message that notifies someone."""
    found = set()
    for alarm in synth.of_type("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if (
            props["MetricName"] == "ApproximateNumberOfMessagesVisible"
            and props["Threshold"] == 0
            and props["ComparisonOperator"] == "GreaterThanThreshold"
            and props["AlarmActions"]
        ):
            found |= {ref(d["Value"]) for d in props["Dimensions"] if d["Name"] == "QueueName"}
    return {i for i in found if i}


def resolved(value: Any) -> str:
    """An output value with each ``Ref``/``GetAtt`` written as the logical id it names."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(resolved(p) for p in parts)
    name = ref(value)
    assert name, value
    return name


def listed_by_kbs_dlq(synth: Synth) -> list[dead_letters.DeadLetterQueue]:
    """What ``kbs dlq --stack`` reads from the outputs (physical ids shown as logical ids)."""
    outputs = {
        key: resolved(o["Value"])
        for key, o in synth.template["Outputs"].items()
        if key.startswith(DEAD_LETTERS_OUTPUT_PREFIX)
    }
    return dead_letters.stack_queues(outputs)


def test_every_async_trigger_dead_letters_into_an_alarmed_queue_kbs_dlq_can_redrive(
    synth: Synth,
) -> None:
    alarms = alarmed(synth)
    listed = {q.url: q for q in listed_by_kbs_dlq(synth)}
    checked = 0
    for fn in synth.functions:
        drained = drained_queues(synth, fn)
        for trigger in fn.triggers:
            where = f"{fn.name}: {trigger}"
            if isinstance(trigger, SYNCHRONOUS):
                continue
            if isinstance(trigger, wiring.EventRule):
                (target,) = rule_for(synth, trigger, fn)["Targets"]
                queue = ref(target["Arn"])
                assert queue in drained, where
                dlq = dead_letters_of(synth, queue)
                # Events the rule cannot deliver (after its retries) land in the same queue.
                assert ref(target["DeadLetterConfig"]["Arn"]) == dlq, where
                sources = {queue}
            elif isinstance(trigger, wiring.WorkQueue):
                (queue,) = [
                    q
                    for q in drained
                    if getattr(listed.get(dead_letters_of(synth, q)), "trigger", "") == trigger.name
                ]
                dlq = dead_letters_of(synth, queue)
                sources = {queue}
            elif isinstance(trigger, wiring.Schedule):
                (target,) = rule_for(synth, trigger, fn)["Targets"]
                assert ref(target["Arn"]) == function_id(synth, fn), where
                assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1, where
                dlq = str(ref(target["DeadLetterConfig"]["Arn"]))
                function = synth.resources[function_id(synth, fn)]["Properties"]
                # Failed async invocations (after Lambda's retries) land in the same queue.
                assert ref(function["DeadLetterConfig"]["TargetArn"]) == dlq, where
                sources = set()
            else:
                pytest.fail(f"{where}: a trigger kind this test does not know; add its path")
            assert dlq in alarms, f"{where}: its dead-letter queue has no alarm"
            entry = listed.get(dlq)
            assert entry, f"{where}: no DeadLetters output for `kbs dlq`"
            assert entry.function == fn.name, where
            assert trigger.name in entry.trigger, where
            if sources:
                assert entry.source_queue_url in sources, where
            else:
                assert entry.function_name == function_id(synth, fn), where
            checked += 1
    assert checked == sum(
        not isinstance(t, SYNCHRONOUS) for fn in synth.functions for t in fn.triggers
    )


def test_every_dead_letter_queue_is_listed_once_for_kbs_dlq(synth: Synth) -> None:
    listed = listed_by_kbs_dlq(synth)
    urls = [q.url for q in listed]
    assert len(urls) == len(set(urls))
    assert set(urls) == alarmed(synth)
    assert dead_letters.OUTPUT_PREFIX == DEAD_LETTERS_OUTPUT_PREFIX


def test_eventbridge_may_deliver_to_each_rule_queue_and_its_dead_letter_queue(
    synth: Synth,
) -> None:
    """A target DLQ the rule may not write to would drop undeliverable events silently."""
    allowed = {
        str(ref(queue))
        for policy in synth.of_type("AWS::SQS::QueuePolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
        and "sqs:SendMessage" in as_list(statement["Action"])
        and statement.get("Principal") == {"Service": "events.amazonaws.com"}
        for queue in policy["Properties"]["Queues"]
    }
    for fn in synth.functions:
        for trigger in fn.of_kind(wiring.EventRule):
            (target,) = rule_for(synth, trigger, fn)["Targets"]
            assert ref(target["Arn"]) in allowed, trigger.name
            assert ref(target["DeadLetterConfig"]["Arn"]) in allowed, trigger.name
        for schedule in fn.of_kind(wiring.Schedule):
            (target,) = rule_for(synth, schedule, fn)["Targets"]
            assert ref(target["DeadLetterConfig"]["Arn"]) in allowed, schedule.name


def test_outputs_are_json_kbs_dlq_reads() -> None:
    described = {
        "DeadLettersRuleX": json.dumps(
            {"trigger": "X", "function": "f", "url": "https://q/x-dlq", "source_queue_url": "u"}
        ),
        "DeadLetterTopicArn": "arn:aws:sns:eu-west-1:1:t",
    }
    (queue,) = dead_letters.stack_queues(described)
    assert (queue.trigger, queue.function, queue.name, queue.source_queue_url) == (
        "X",
        "f",
        "x-dlq",
        "u",
    )


def role_statements(synth: Synth, fn: wiring.Function) -> list[dict[str, Any]]:
    """The IAM statements of the policies attached to ``fn``'s role."""
    role = ref(synth.resources[function_id(synth, fn)]["Properties"]["Role"])
    return [
        statement
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if role in {ref(r) for r in policy["Properties"]["Roles"]}
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_each_queue_consumer_may_send_exactly_to_its_queues_dead_letter_queues(
    synth: Synth,
) -> None:
    """A record that can never succeed is sent to the DLQ at once (issue 12, item 10): the
    consumer holds exactly ``sqs:SendMessage`` on its own queues' DLQs, and their URLs by
    source queue ARN in ``KBS_DEAD_LETTER_QUEUES``."""
    every_dlq = {
        dead_letters_of(synth, q) for fn in synth.functions for q in drained_queues(synth, fn)
    }
    consumers = 0
    for fn in synth.functions:
        own = {q: dead_letters_of(synth, q) for q in drained_queues(synth, fn)}
        grants = [
            (statement, resource)
            for statement in role_statements(synth, fn)
            for resource in as_list(statement["Resource"])
            if ref(resource) in every_dlq
        ]
        assert {ref(resource) for _, resource in grants} == set(own.values()), fn.name
        for statement, _ in grants:
            assert as_list(statement["Action"]) == ["sqs:SendMessage"], fn.name
        variables = synth.resources[function_id(synth, fn)]["Properties"]["Environment"][
            "Variables"
        ]
        if own:
            consumers += 1
            mapping = json.loads(resolved(variables[wiring.DEAD_LETTER_QUEUES_VARIABLE]))
            assert mapping == own, fn.name
        else:
            assert wiring.DEAD_LETTER_QUEUES_VARIABLE not in variables, fn.name
    assert consumers >= 6
