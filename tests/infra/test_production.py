"""A production deployment: alarms that reach someone, a real sender identity, nothing lost
with the stack, and a synthesis refused while the context could not work.

Alarms are derived from the declaration: every function of ``synth.functions`` (present or
added later) must have its errors and throttles alarm.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import aws_cdk
import pytest

from infra import deployment, wiring
from infra.constructs.email import mail_from_domain
from infra.constructs.monitoring import SES_BOUNCE_RATE, SES_COMPLAINT_RATE
from infra.constructs.service_function import METRICS_NAMESPACE
from tests.infra.cfn import CDK_CONTEXT, Synth, ref, statements, synthesize
from tests.infra.conftest import PRODUCTION

pytestmark = pytest.mark.xdist_group("synth")

ALARM_EMAIL = PRODUCTION["kbs:alarmEmail"]
DOMAIN = PRODUCTION["kbs:senderDomain"]


def topic_id(synth: Synth) -> str:
    (found,) = synth.of_type("AWS::SNS::Topic")
    return found


def alarms_on(synth: Synth, namespace: str, metric: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == namespace
        and a["Properties"].get("MetricName") == metric
    ]


def test_the_alarm_email_is_subscribed_to_the_topic_every_alarm_notifies(
    production: Synth,
) -> None:
    topic = topic_id(production)
    (subscription,) = production.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == ALARM_EMAIL
    assert ref(subscription["Properties"]["TopicArn"]) == topic
    alarms = production.of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) > 2 * len(production.functions)
    for alarm_id, alarm in alarms.items():
        assert [ref(a) for a in alarm["Properties"]["AlarmActions"]] == [topic], alarm_id


def test_without_an_alarm_email_nothing_is_subscribed(declared: Synth) -> None:
    assert declared.of_type("AWS::SNS::Subscription") == {}


def test_every_function_has_an_errors_and_a_throttles_alarm(synth: Synth) -> None:
    functions = {
        f["Properties"]["Handler"]: logical_id
        for logical_id, f in synth.of_type("AWS::Lambda::Function").items()
    }
    for metric in ("Errors", "Throttles"):
        alarmed = {
            ref(d["Value"])
            for props in alarms_on(synth, "AWS/Lambda", metric)
            for d in props["Dimensions"]
            if d["Name"] == "FunctionName" and props["Threshold"] == 0
        }
        assert alarmed == {functions[fn.handler] for fn in synth.functions}, metric


def test_api_5xx_and_latency_and_ses_reputation_are_alarmed(declared: Synth) -> None:
    (api_id,) = declared.of_type("AWS::ApiGatewayV2::Api")
    for metric in ("5xx", "Latency"):
        (props,) = alarms_on(declared, "AWS/ApiGateway", metric)
        assert [(d["Name"], ref(d["Value"])) for d in props["Dimensions"]] == [("ApiId", api_id)]
    (bounces,) = alarms_on(declared, "AWS/SES", "Reputation.BounceRate")
    (complaints,) = alarms_on(declared, "AWS/SES", "Reputation.ComplaintRate")
    assert bounces["Threshold"] == SES_BOUNCE_RATE == 0.05
    assert complaints["Threshold"] == SES_COMPLAINT_RATE == 0.001
    for props in (bounces, complaints):
        assert props["ComparisonOperator"] == "GreaterThanThreshold"


def test_the_dashboard_shows_the_series_flow(declared: Synth) -> None:
    (dashboard,) = declared.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for series in (
        f'\\"{METRICS_NAMESPACE}\\",\\"RegistrationsSubmitted\\"',
        '\\"AWS/SES\\",\\"Send\\"',
        '\\"AWS/SES\\",\\"Bounce\\"',
        "ApproximateNumberOfMessagesVisible",
    ):
        assert series in body, series


def test_a_domain_identity_signs_with_easy_dkim_and_its_own_mail_from(production: Synth) -> None:
    ((identity_id, identity),) = production.of_type("AWS::SES::EmailIdentity").items()
    props = identity["Properties"]
    assert props["EmailIdentity"] == DOMAIN
    assert props.get("DkimAttributes", {}).get("SigningEnabled", True)
    assert "DkimSigningAttributes" not in props, "Easy DKIM: SES makes and rotates the keys"
    assert props["MailFromAttributes"]["MailFromDomain"] == mail_from_domain(DOMAIN)
    assert mail_from_domain(DOMAIN) == f"mail.{DOMAIN}"
    for resources in sending_resources(production):  # the domain identity's ARN
        assert f'{{"Ref": "{identity_id}"}}' in json.dumps(resources)


def sending_resources(synth: Synth) -> list[Any]:
    return [
        s["Resource"] for _, s in statements(synth) if "ses:SendEmail" in json.dumps(s["Action"])
    ]


def test_an_existing_identity_is_referenced_not_created(tmp_path: Path) -> None:
    arn = "arn:aws:ses:eu-west-1:123456789012:identity/city-of-ghent.eu"
    synth = synthesize(
        (wiring.function("registration_processor"),),
        tmp_path,
        **{"kbs:senderIdentityArn": arn, "kbs:senderEmail": "series@city-of-ghent.eu"},
    )
    assert synth.of_type("AWS::SES::EmailIdentity") == {}
    (resources,) = sending_resources(synth)
    assert arn in resources
    assert synth.template["Outputs"]["SenderIdentityName"]["Value"] == "city-of-ghent.eu"


def test_the_link_secret_and_the_data_outlive_the_stack(declared: Synth) -> None:
    for cfn_type in ("AWS::SecretsManager::Secret", "AWS::DynamoDB::Table", "AWS::S3::Bucket"):
        for logical_id, resource in declared.of_type(cfn_type).items():
            assert resource.get("DeletionPolicy") == "Retain", logical_id
            assert resource.get("UpdateReplacePolicy") == "Retain", logical_id
    (table,) = declared.of_type("AWS::DynamoDB::Table").values()
    pitr = table["Properties"]["PointInTimeRecoverySpecification"]
    assert pitr["PointInTimeRecoveryEnabled"] is True


def test_a_monthly_budget_alerts_the_alarm_email(production: Synth, declared: Synth) -> None:
    assert declared.of_type("AWS::Budgets::Budget") == {}
    (budget,) = production.of_type("AWS::Budgets::Budget").values()
    props = budget["Properties"]
    assert props["Budget"]["BudgetLimit"] == {
        "Amount": float(PRODUCTION["kbs:monthlyBudget"]),
        "Unit": "USD",
    }
    assert props["Budget"]["TimeUnit"] == "MONTHLY"
    (notification,) = props["NotificationsWithSubscribers"]
    assert notification["Subscribers"] == [{"Address": ALARM_EMAIL, "SubscriptionType": "EMAIL"}]


@pytest.mark.parametrize(
    ("override", "keys"),
    [
        ({"kbs:alarmEmail": ""}, ["kbs:alarmEmail"]),
        ({"kbs:senderEmail": "series@example.org", "kbs:senderDomain": ""}, ["kbs:senderEmail"]),
        ({"kbs:publicBaseUrl": "https://kbs.example.com"}, ["kbs:publicBaseUrl"]),
        ({"kbs:organiserEmail": "organisers@localhost"}, ["kbs:organiserEmail"]),
        (
            {"kbs:senderDomain": "kbs.example", "kbs:senderEmail": "s@kbs.example"},
            ["kbs:senderDomain", "kbs:senderEmail"],
        ),
        ({"kbs:publicBaseUrl": "http://kbs.city-of-ghent.eu"}, ["kbs:publicBaseUrl"]),
        ({"kbs:senderEmail": "series@elsewhere.eu"}, ["kbs:senderEmail", "kbs:senderDomain"]),
    ],
)
def test_a_production_synthesis_is_refused_naming_the_keys(
    override: dict[str, str], keys: list[str], tmp_path: Path
) -> None:
    context = {**CDK_CONTEXT, **PRODUCTION, **override}
    with pytest.raises(deployment.DeploymentError) as refused:
        synthesize(wiring.FUNCTIONS, tmp_path, **context)
    message = str(refused.value)
    assert "kbs:stage=prod" in message
    for key in keys:
        assert key in message
    assert not (tmp_path / "Kbs.template.json").exists()


def test_cdk_json_is_a_dev_context_that_production_refuses() -> None:
    assert CDK_CONTEXT["kbs:stage"] == "dev"
    assert deployment.Deployment.from_context(CDK_CONTEXT.get).problems() == []
    refused = deployment.Deployment.from_context({**CDK_CONTEXT, "kbs:stage": "prod"}.get)
    assert {p.split()[0] for p in refused.problems()} >= {
        "kbs:senderEmail",
        "kbs:publicBaseUrl",
        "kbs:organiserEmail",
        "kbs:alarmEmail",
    }


def test_cdk_json_sets_every_recommended_feature_flag() -> None:
    """The flags ``cdk init`` writes for the installed aws-cdk-lib, with the same values."""
    jsii = Path(aws_cdk.__file__).parent / "_jsii"
    (bundle,) = jsii.glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(bundle) as archive:
        member = archive.extractfile("package/recommended-feature-flags.json")
        assert member is not None
        recommended = json.loads(member.read())
    assert len(recommended) > 50
    assert {k: CDK_CONTEXT.get(k) for k in recommended} == recommended
