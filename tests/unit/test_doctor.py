"""``kbs doctor`` against botocore's Stubber: real request and response shapes, checked by
botocore against each service's model, for a healthy stack and a stack with every fault."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from kbs.commands import doctor

STACK = "Kbs"
REGION = "eu-west-1"
TOPIC = f"arn:aws:sns:{REGION}:123456789012:Kbs-DeadLetterAlarmsTopic"
DLQ = f"https://sqs.{REGION}.amazonaws.com/123456789012/Kbs-RuleDeadLetters"
SECRET = "LinkSecret-abc"
RULE = "Kbs-ScheduleSessionClockRule"
DOMAIN = "kbs.city.example.eu"
OUTPUTS = {
    "SenderIdentityName": DOMAIN,
    "AlarmTopicArn": TOPIC,
    "LinkSecretName": SECRET,
    "ScheduleRuleNames": RULE,
    "DeadLettersRuleRegistrationSubmitted": json.dumps(
        {
            "trigger": "RegistrationSubmitted",
            "function": "registration_processor",
            "url": DLQ,
            "source_queue_url": DLQ.replace("DeadLetters", "Queue"),
            "function_name": "",
        }
    ),
}


class Stubs:
    """One stubbed client per service; ``doctor.run`` gets them through :meth:`client`."""

    def __init__(self, stack: ExitStack) -> None:
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}
        for service in ("cloudformation", "sesv2", "sns", "sqs", "secretsmanager", "events"):
            client = boto3.client(
                service,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            self.clients[service] = client
            self.stubbers[service] = stack.enter_context(Stubber(client))

    def client(self, service: str) -> Any:
        return self.clients[service]

    def add(self, service: str, method: str, response: dict[str, Any], **params: Any) -> None:
        self.stubbers[service].add_response(method, response, params or None)

    def assert_all_used(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    with ExitStack() as stack:
        yield Stubs(stack)


def given_stack(
    stubs: Stubs,
    *,
    verified: bool,
    dkim: str,
    production: bool,
    subscriptions: list[str],
    dead_letters: int,
    secret_deleted: bool,
    rule_state: str,
) -> None:
    stubs.add(
        "cloudformation",
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "CreationTime": "2026-11-01T00:00:00Z",
                    "StackStatus": "UPDATE_COMPLETE",
                    "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in OUTPUTS.items()],
                }
            ]
        },
        StackName=STACK,
    )
    stubs.add(
        "sesv2",
        "get_email_identity",
        {
            "IdentityType": "DOMAIN",
            "FeedbackForwardingStatus": True,
            "VerifiedForSendingStatus": verified,
            "VerificationStatus": "SUCCESS" if verified else "PENDING",
            "DkimAttributes": {
                "SigningEnabled": True,
                "Status": dkim,
                "Tokens": ["a1", "b2", "c3"],
                "SigningAttributesOrigin": "AWS_SES",
            },
            "MailFromAttributes": {
                "MailFromDomain": f"mail.{DOMAIN}",
                "MailFromDomainStatus": "SUCCESS",
                "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
            },
        },
        EmailIdentity=DOMAIN,
    )
    stubs.add(
        "sesv2",
        "get_account",
        {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": production,
            "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 3.0},
            "SendingEnabled": True,
        },
    )
    stubs.add(
        "sns",
        "list_subscriptions_by_topic",
        {
            "Subscriptions": [
                {
                    "SubscriptionArn": arn,
                    "Owner": "123456789012",
                    "Protocol": "email",
                    "Endpoint": "ops@city.example.eu",
                    "TopicArn": TOPIC,
                }
                for arn in subscriptions
            ]
        },
        TopicArn=TOPIC,
    )
    stubs.add(
        "sqs",
        "get_queue_attributes",
        {"Attributes": {"ApproximateNumberOfMessages": str(dead_letters)}},
        QueueUrl=DLQ,
        AttributeNames=["ApproximateNumberOfMessages"],
    )
    described: dict[str, Any] = {"ARN": f"arn:aws:secretsmanager:{REGION}:1:secret:{SECRET}"}
    described["Name"] = SECRET
    if secret_deleted:
        described["DeletedDate"] = "2026-11-29T00:00:00Z"
    stubs.add("secretsmanager", "describe_secret", described, SecretId=SECRET)
    stubs.add(
        "events",
        "describe_rule",
        {"Name": RULE, "State": rule_state, "ScheduleExpression": "rate(5 minutes)"},
        Name=RULE,
    )


def test_a_healthy_stack_passes_every_check(stubs: Stubs) -> None:
    given_stack(
        stubs,
        verified=True,
        dkim="SUCCESS",
        production=True,
        subscriptions=[f"{TOPIC}:4f0c6f1e-0000-4000-8000-000000000001"],
        dead_letters=0,
        secret_deleted=False,
        rule_state="ENABLED",
    )

    checks = doctor.run(STACK, stubs.client)

    stubs.assert_all_used()
    assert [c.name for c in checks if not c.ok] == []
    assert len(checks) == 7


def test_every_fault_fails_its_check_with_a_fix(
    stubs: Stubs, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    given_stack(
        stubs,
        verified=False,
        dkim="PENDING",
        production=False,
        subscriptions=["PendingConfirmation"],
        dead_letters=3,
        secret_deleted=True,
        rule_state="DISABLED",
    )
    monkeypatch.setattr("shared.platform.clients.client", stubs.client)

    status = doctor.doctor_command(type("Args", (), {"stack": STACK})())  # type: ignore[arg-type]

    out = capsys.readouterr().out
    stubs.assert_all_used()
    assert status == 1
    assert out.count("FAIL") == 7 and out.count("fix: ") == 7
    assert "0 of 7 checks passed" in out
    assert "in the SES sandbox" in out and "DKIM PENDING" in out
    assert "0 confirmed, 1 pending confirmation" in out
    assert "3 message(s)" in out and f"enable-rule --name {RULE}" in out


def test_a_missing_identity_is_a_failed_check_not_a_crash(stubs: Stubs) -> None:
    stubs.stubbers["sesv2"].add_client_error(
        "get_email_identity", service_error_code="NotFoundException", http_status_code=404
    )

    (check,) = doctor.sender_identity(stubs.client("sesv2"), DOMAIN)

    assert not check.ok and check.detail == "NotFoundException"
