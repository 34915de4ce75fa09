"""Properties every deployment must keep: encryption, recovery, dead letters, least privilege."""

from __future__ import annotations

import re

import pytest
from aws_cdk.assertions import Match

from infra import wiring
from infra.runtime import POWERTOOLS_LAYER_VERSION
from infra.stack import OUR_SOURCES
from shared.platform.settings import Settings
from tests.infra.cfn import Synth, as_list, ref, statements

pytestmark = pytest.mark.xdist_group("synth")

POWERTOOLS_LAYER = re.compile(
    r":017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-(arm64|x86_64):"
    rf"{POWERTOOLS_LAYER_VERSION}$"
)
# Services holding data: never granted on Resource "*", never with a service-wide wildcard.
DATA_SERVICES = ("dynamodb", "s3", "sqs", "sns", "ses", "secretsmanager", "events", "kms")
# Settings the stack must set; ``link_secret`` is the key itself, for the local runtime only, and
# ``cap_exempt_loopback`` only matters to the local stack (API Gateway clients are never loopback).
LOCAL_ONLY_SETTINGS = {"link_secret", "cap_exempt_loopback"}
# Work queue URLs: set for the functions that may send to the queue only (test_parity.py);
# dead-letter queues: for queue consumers only (test_dead_letters.py).
PER_FUNCTION_SETTINGS = {
    name.removeprefix("KBS_").lower()
    for name in [
        *map(wiring.queue_url_variable, wiring.work_queues(wiring.FUNCTIONS)),
        wiring.DEAD_LETTER_QUEUES_VARIABLE,
    ]
}


def test_table_follows_the_table_spec(declared: Synth) -> None:
    spec = wiring.TABLE
    declared.assertions.resource_count_is("AWS::DynamoDB::Table", 1)
    declared.assertions.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [
                    {"AttributeName": spec.partition_key, "KeyType": "HASH"},
                    {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
                ],
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "SSESpecification": {"SSEEnabled": True},
                "TimeToLiveSpecification": {
                    "AttributeName": spec.ttl_attribute,
                    "Enabled": True,
                },
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": name,
                        "KeySchema": [
                            {"AttributeName": pk, "KeyType": "HASH"},
                            {"AttributeName": sk, "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                    for name, pk, sk in spec.indexes
                ],
            },
        },
    )
    (table,) = declared.of_type("AWS::DynamoDB::Table").values()
    attributes = table["Properties"]["AttributeDefinitions"]
    assert {a["AttributeType"] for a in attributes} == {"S"}


def test_archive_keeps_every_event_our_code_publishes(declared: Synth) -> None:
    (bus_id,) = declared.of_type("AWS::Events::EventBus")
    declared.assertions.has_resource_properties(
        "AWS::Events::Archive",
        {
            "SourceArn": {"Fn::GetAtt": [bus_id, "Arn"]},
            "EventPattern": {"source": list(OUR_SOURCES)},
            "RetentionDays": Match.any_value(),
        },
    )
    sources = {v for k, v in vars(wiring).items() if k.startswith("SOURCE_")}
    assert set(OUR_SOURCES) == sources


def test_every_lambda_runs_python_313_with_both_layers_tracing_and_logs(synth: Synth) -> None:
    functions = synth.of_type("AWS::Lambda::Function")
    (dependencies_id, dependencies), *others = synth.of_type("AWS::Lambda::LayerVersion").items()
    assert others == []
    assert functions
    for function_id, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13", function_id
        assert props["TracingConfig"] == {"Mode": "Active"}, function_id
        assert [ref(layer) for layer in props["Layers"]].count(dependencies_id) == 1, function_id
        layers = [
            "".join(map(str, layer["Fn::Join"][1])) for layer in props["Layers"] if not ref(layer)
        ]
        matches = [m for m in map(POWERTOOLS_LAYER.search, layers) if m]
        assert len(matches) == 1, layers
        assert matches[0].group(1) == props["Architectures"][0], "layer built for another CPU"
        assert dependencies["Properties"]["CompatibleArchitectures"] == props["Architectures"]
        assert dependencies["Properties"]["CompatibleRuntimes"] == [props["Runtime"]]
        log_group = synth.resources[ref(props["LoggingConfig"]["LogGroup"])]  # type: ignore[index]
        assert log_group["Properties"]["RetentionInDays"] > 0


def test_every_lambda_gets_the_settings_its_code_reads(synth: Synth) -> None:
    expected = {f"KBS_{name.upper()}" for name in Settings.model_fields} - {
        f"KBS_{name.upper()}" for name in LOCAL_ONLY_SETTINGS | PER_FUNCTION_SETTINGS
    }
    assert set(Settings.model_fields) >= PER_FUNCTION_SETTINGS, "a work queue without a setting"
    for function in synth.of_type("AWS::Lambda::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert expected <= set(variables)
        assert "KBS_LINK_SECRET" not in variables, "the key itself never goes in the environment"
        assert variables["POWERTOOLS_SERVICE_NAME"]


def test_every_queue_is_encrypted_tls_only_and_has_a_redrive_policy_or_is_a_dlq(
    synth: Synth,
) -> None:
    queues = synth.of_type("AWS::SQS::Queue")
    dead_letter_ids = dead_letter_queues(synth)
    assert dead_letter_ids <= set(queues)
    for queue_id, queue in queues.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") or props.get("KmsMasterKeyId"), queue_id
        if queue_id not in dead_letter_ids:
            assert props["RedrivePolicy"]["maxReceiveCount"] <= 10, queue_id
            assert ref(props["RedrivePolicy"]["deadLetterTargetArn"]) in dead_letter_ids
    tls_only = {
        ref(queue)
        for policy in synth.of_type("AWS::SQS::QueuePolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for queue in policy["Properties"]["Queues"]
    }
    assert tls_only == set(queues)


def dead_letter_queues(synth: Synth) -> set[str]:
    """Queues some redrive policy, rule target or Lambda names as its dead-letter queue."""
    ids = {
        ref(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in synth.of_type("AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    }
    ids |= {
        ref(target["DeadLetterConfig"]["Arn"])
        for rule in synth.of_type("AWS::Events::Rule").values()
        for target in rule["Properties"]["Targets"]
        if "DeadLetterConfig" in target
    }
    ids |= {
        ref(f["Properties"]["DeadLetterConfig"]["TargetArn"])
        for f in synth.of_type("AWS::Lambda::Function").values()
        if "DeadLetterConfig" in f["Properties"]
    }
    return {i for i in ids if i}


def test_every_dead_letter_queue_has_an_alarm(synth: Synth) -> None:
    dead_letter_ids = dead_letter_queues(synth)
    assert dead_letter_ids
    alarmed = set()
    for alarm in synth.of_type("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props["MetricName"] != "ApproximateNumberOfMessagesVisible":
            continue  # the functions', the API's and SES's (test_production.py)
        assert props["ComparisonOperator"] == "GreaterThanThreshold"
        assert props["Threshold"] == 0
        assert props["AlarmActions"], "an alarm nobody hears is no alarm"
        (dimension,) = props["Dimensions"]
        alarmed.add(ref(dimension["Value"]))
    assert alarmed == dead_letter_ids


def test_http_api_stage_is_throttled_and_access_logged_without_personal_data(
    declared: Synth,
) -> None:
    declared.assertions.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {
                "ThrottlingBurstLimit": Match.any_value(),
                "ThrottlingRateLimit": Match.any_value(),
            },
            "AccessLogSettings": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp(r"\$context\.requestId"),
            },
        },
    )
    (stage,) = declared.of_type("AWS::ApiGatewayV2::Stage").values()
    log_format = stage["Properties"]["AccessLogSettings"]["Format"]
    for personal in ("sourceIp", "userAgent", "identity."):
        assert personal not in log_format


def test_materials_bucket_is_private_versioned_tls_only_and_sends_events(
    declared: Synth,
) -> None:
    declared.assertions.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Retain",
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                "BucketEncryption": Match.any_value(),
                "NotificationConfiguration": {
                    "EventBridgeConfiguration": {"EventBridgeEnabled": True}
                },
                "LoggingConfiguration": {"DestinationBucketName": Match.any_value()},
            },
        },
    )
    buckets = declared.of_type("AWS::S3::Bucket")
    for bucket in buckets.values():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]
        assert bucket["Properties"]["BucketEncryption"]
    tls_only = {
        ref(policy["Properties"]["Bucket"])
        for policy in declared.of_type("AWS::S3::BucketPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    }
    assert tls_only == set(buckets)


def test_no_statement_grants_a_service_wildcard_or_data_on_any_resource(synth: Synth) -> None:
    for policy_id, statement in statements(synth):
        actions = as_list(statement["Action"])
        resources = as_list(statement["Resource"])
        for action in actions:
            service, _, name = action.partition(":")
            assert name != "*" and action != "*", f"{policy_id}: {action}"
            if service in DATA_SERVICES:
                assert "*" not in resources, f"{policy_id}: {action} on *"


def test_outputs_and_sender_identity(declared: Synth) -> None:
    outputs = declared.template["Outputs"]
    for name in (
        "TableName",
        "EventBusName",
        "ApiUrl",
        "MaterialsBucketName",
        "ConfigurationSetName",
        "EmailBatchesQueueUrl",  # kbs message enqueues there
    ):
        assert name in outputs
    declared.assertions.has_resource_properties(
        "AWS::SES::EmailIdentity",
        {
            "EmailIdentity": declared.app.node.try_get_context("kbs:senderEmail"),
            "ConfigurationSetAttributes": Match.any_value(),
        },
    )
