"""The template is the wiring declaration: every function, route, rule and schedule, and only
those. Expected values are computed from ``infra.wiring``, never written here."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from infra import wiring
from tests.infra.cfn import Synth, as_list, ref

pytestmark = pytest.mark.xdist_group("synth")


def canonical(pattern: dict[str, Any]) -> str:
    return json.dumps(pattern, sort_keys=True)


def bus_kind(synth: Synth, rule: dict[str, Any]) -> str:
    """``app`` for our custom bus, ``default`` for the account's default bus."""
    bus = rule["Properties"].get("EventBusName", "default")
    if bus == "default":
        return "default"
    bus_id = ref(bus)
    assert bus_id and synth.resources[bus_id]["Type"] == "AWS::Events::EventBus"
    return "app"


def materials_bucket_id(synth: Synth) -> str:
    """The logical id of the materials bucket (the one sending events to EventBridge)."""
    (bucket_id,) = [
        bucket_id
        for bucket_id, bucket in synth.of_type("AWS::S3::Bucket").items()
        if "NotificationConfiguration" in bucket["Properties"]
    ]
    return bucket_id


def consumer_of(synth: Synth, queue_id: str) -> str:
    """The handler of the one function draining ``queue_id`` through an event source mapping."""
    handlers = [
        synth.handler_of(m["Properties"]["FunctionName"]["Ref"])
        for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if ref(m["Properties"]["EventSourceArn"]) == queue_id
    ]
    assert len(handlers) == 1, f"{queue_id} is drained by {handlers}"
    return handlers[0]


def test_one_lambda_per_declared_function(synth: Synth) -> None:
    functions = synth.of_type("AWS::Lambda::Function")
    deployed = {r["Properties"]["Handler"]: r["Properties"] for r in functions.values()}
    assert len(functions) == len(synth.functions)
    assert set(deployed) == {fn.handler for fn in synth.functions}
    for fn in synth.functions:
        props = deployed[fn.handler]
        assert props["Timeout"] == fn.timeout_seconds
        assert props["MemorySize"] == fn.memory_mb
        # Reserving concurrency fails on new accounts (unreserved may not drop below 10);
        # a work queue's event source mapping bounds its consumer instead.
        assert "ReservedConcurrentExecutions" not in props, fn.name
        assert props["Description"] == fn.description


def test_http_routes_match_the_declaration(synth: Synth) -> None:
    expected = {
        route.route_key: fn.handler
        for fn in synth.functions
        for route in fn.of_kind(wiring.HttpRoute)
    }
    routes = synth.of_type("AWS::ApiGatewayV2::Route").values()
    deployed: dict[str, str] = {}
    for route in routes:
        integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        integration = synth.resources[integration_id]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert integration["PayloadFormatVersion"] == "2.0"
        deployed[route["Properties"]["RouteKey"]] = synth.handler_of(
            integration["IntegrationUri"]["Fn::GetAtt"][0]
        )
    assert len(routes) == len(expected)
    assert deployed == expected


def test_event_rules_match_the_declaration(synth: Synth) -> None:
    bucket = {"Ref": materials_bucket_id(synth)}  # fills the declaration's placeholder
    expected = Counter(
        (canonical(wiring.resolved_pattern(rule.pattern, bucket=bucket)), rule.bus, fn.handler)
        for fn in synth.functions
        for rule in fn.of_kind(wiring.EventRule)
    )
    deployed: Counter[tuple[str, str, str]] = Counter()
    for rule in synth.of_type("AWS::Events::Rule").values():
        props = rule["Properties"]
        if "EventPattern" not in props:
            continue
        (target,) = props["Targets"]
        queue_id = ref(target["Arn"])
        assert queue_id and synth.resources[queue_id]["Type"] == "AWS::SQS::Queue"
        assert "DeadLetterConfig" in target, "the rule target itself needs a DLQ"
        pattern = canonical(props["EventPattern"])
        deployed[(pattern, bus_kind(synth, rule), consumer_of(synth, queue_id))] += 1
    assert deployed == expected


def test_event_rule_queues_are_drained_in_batches_with_partial_failures(synth: Synth) -> None:
    work_queues = {
        spec.batch_size for fn in synth.functions for spec in fn.of_kind(wiring.WorkQueue)
    }
    for mapping in synth.of_type("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        assert props["BatchSize"] == 10 or props["BatchSize"] in work_queues
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_work_queues_match_the_declaration(synth: Synth) -> None:
    """Each ``WorkQueue``: one queue drained by its function as declared, and the functions
    that may send to it, only they, granted ``sqs:SendMessage`` with its URL in their settings."""
    declared = wiring.work_queues(synth.functions)
    drained = {}
    for mapping in synth.of_type("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        queue_id = ref(props["EventSourceArn"])
        if any(
            ref(t["Arn"]) == queue_id for r in _rules(synth) for t in r["Properties"]["Targets"]
        ):
            continue  # an EventRule's queue
        handler = synth.handler_of(props["FunctionName"]["Ref"])
        drained[handler] = (queue_id, props)
    assert {fn.handler for fn, _ in declared.values()} == set(drained)
    for name, (consumer, spec) in declared.items():
        queue_id, props = drained[consumer.handler]
        assert props["BatchSize"] == spec.batch_size
        assert props.get("ScalingConfig", {}).get("MaximumConcurrency") == spec.max_concurrency
        assert "RedrivePolicy" in synth.resources[queue_id]["Properties"]
        for fn in synth.functions:
            function_id, function = _function(synth, fn)
            variables = function["Properties"]["Environment"]["Variables"]
            url = variables.get(wiring.queue_url_variable(name))
            sends = _may_send(synth, function_id, queue_id)
            assert sends == (name in fn.access.send_to), fn.name
            assert (ref(url) == queue_id) == (name in fn.access.send_to), fn.name


def _rules(synth: Synth) -> list[dict[str, Any]]:
    return list(synth.of_type("AWS::Events::Rule").values())


def _function(synth: Synth, fn: wiring.Function) -> tuple[str, dict[str, Any]]:
    return next(
        (function_id, function)
        for function_id, function in synth.of_type("AWS::Lambda::Function").items()
        if function["Properties"]["Handler"] == fn.handler
    )


def _may_send(synth: Synth, function_id: str, queue_id: str) -> bool:
    """Whether the role of ``function_id`` has ``sqs:SendMessage`` on ``queue_id``."""
    role = synth.resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return any(
        "sqs:SendMessage" in as_list(statement["Action"])
        and queue_id in {ref(r) for r in as_list(statement["Resource"])}
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if ref(policy["Properties"]["Roles"][0]) == role
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_schedules_match_the_declaration(synth: Synth) -> None:
    expected = Counter(
        (schedule.expression, fn.handler)
        for fn in synth.functions
        for schedule in fn.of_kind(wiring.Schedule)
    )
    deployed: Counter[tuple[str, str]] = Counter()
    for rule in synth.of_type("AWS::Events::Rule").values():
        props = rule["Properties"]
        if "ScheduleExpression" not in props:
            continue
        (target,) = props["Targets"]
        function_id = ref(target["Arn"])
        assert function_id, "a schedule invokes its function directly"
        assert "DeadLetterConfig" in target
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        function = synth.resources[function_id]["Properties"]
        assert "DeadLetterConfig" in function, "async invocations need an on-failure queue"
        deployed[(props["ScheduleExpression"], synth.handler_of(function_id))] += 1
    assert deployed == expected


def test_extended_declaration_exercises_every_trigger_kind(extended: Synth) -> None:
    """Guards the parity tests above against passing vacuously."""
    kinds = {type(t) for fn in extended.functions for t in fn.triggers}
    buses = {r.bus for fn in extended.functions for r in fn.of_kind(wiring.EventRule)}
    assert kinds == {wiring.HttpRoute, wiring.EventRule, wiring.Schedule, wiring.WorkQueue}
    assert buses == {"app", "default"}


def test_grants_follow_each_functions_access(synth: Synth) -> None:
    """Each role may do what its ``Access`` declares, and nothing it does not."""
    roles = {
        r["Properties"]["Handler"]: r["Properties"]["Role"]["Fn::GetAtt"][0]
        for r in synth.of_type("AWS::Lambda::Function").values()
    }
    actions_by_role: dict[str, set[str]] = {}
    objects_by_role: dict[str, set[tuple[str, str]]] = {}
    for policy in synth.of_type("AWS::IAM::Policy").values():
        (role,) = policy["Properties"]["Roles"]
        actions = actions_by_role.setdefault(role["Ref"], set())
        objects = objects_by_role.setdefault(role["Ref"], set())
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions.update(as_list(statement["Action"]))
            for prefix in _object_prefixes(statement):
                objects.update((prefix, a) for a in as_list(statement["Action"]))
    for fn in synth.functions:
        actions = actions_by_role[roles[fn.handler]]
        access = fn.access
        table = wiring.TableAccess.of(access.table)
        declared = {f"dynamodb:{a}" for a in table.actions} if table else set()
        assert {a for a in actions if a.startswith("dynamodb:")} == declared, fn.name
        assert ("events:PutEvents" in actions) == access.publish_events, fn.name
        assert ("ses:SendEmail" in actions) == access.send_email, fn.name
        objects = objects_by_role[roles[fn.handler]]
        materials = {a for prefix, a in objects if prefix == wiring.MATERIALS_PREFIX}
        quarantine = {a for prefix, a in objects if prefix == wiring.QUARANTINE_PREFIX}
        certificates = {a for prefix, a in objects if prefix == wiring.CERTIFICATES_PREFIX}
        assert ("s3:GetObject" in materials) == (access.bucket != "none"), fn.name
        assert ("s3:PutObject" in quarantine) == (access.bucket == "write"), fn.name
        assert ("s3:GetObject" in certificates) == (access.certificates != "none"), fn.name
        assert ("s3:PutObject" in certificates) == (access.certificates == "write"), fn.name
        assert ("s3:DeleteObject" in certificates) == (access.certificates == "write"), fn.name
        assert {p for p, _ in objects} <= {
            wiring.MATERIALS_PREFIX,
            wiring.QUARANTINE_PREFIX,
            wiring.CERTIFICATES_PREFIX,
        }, fn.name
        assert ("secretsmanager:GetSecretValue" in actions) == access.link_secret, fn.name


def _object_prefixes(statement: dict[str, Any]) -> list[str]:
    """The bucket key prefixes (``sessions/``...) a statement's resources name, from the
    ``Fn::Join`` of ``{bucket ARN}/{prefix}*``."""
    found: list[str] = []
    if not all(str(a).startswith("s3:") for a in as_list(statement["Action"])):
        return found
    for resource in as_list(statement["Resource"]):
        if isinstance(resource, dict) and "Fn::Join" in resource:
            tail = resource["Fn::Join"][1][-1]
            if isinstance(tail, str) and tail.startswith("/") and tail.endswith("*"):
                found.append(tail[1:-1])
    return found
