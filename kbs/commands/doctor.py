"""``kbs doctor --stack NAME``: is a deployed stack ready to mail people, and is anyone listening?

Reads the stack's outputs (``infra/stack.py``), then checks, each with the fix if it fails:

- the SES sender identity is verified for sending, with DKIM verified (a domain identity);
- the account is out of the SES sandbox (production access);
- the alarm topic has a confirmed subscription (an email address confirms by its link);
- every dead-letter queue is empty;
- the link-signing secret exists (and is not scheduled for deletion);
- every scheduled rule is enabled.

Exit status 1 if any check fails, 0 otherwise. Needs IAM credentials for the stack's account.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kbs import dead_letters

ClientFactory = Callable[[str], Any]
"""``service name -> boto3 client`` (``shared.platform.clients.client``; stubbed in tests)."""


@dataclass(frozen=True)
class Check:
    """One result: what was checked, whether it passed, what was seen and how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check a deployed stack: sender verified, out of the sandbox, alarms heard, "
        "no dead letters, link key present, schedules on",
        description="Check a deployed stack and print each check with its fix; exit 1 if any "
        "fails.",
    )
    parser.add_argument("--stack", metavar="NAME", required=True, help="the CloudFormation stack")
    parser.set_defaults(func=doctor_command)


def doctor_command(args: argparse.Namespace) -> int:
    from shared.platform.clients import client

    checks = run(args.stack, client)
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
        if not check.ok and check.fix:
            print(f"      fix: {check.fix}")
    failed = sum(not c.ok for c in checks)
    print(f"{len(checks) - failed} of {len(checks)} checks passed")
    return 1 if failed else 0


def run(stack_name: str, client: ClientFactory) -> list[Check]:
    """Every check of the deployed stack ``stack_name``, in order."""
    (stack,) = client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return [
        *sender_identity(client("sesv2"), outputs.get("SenderIdentityName", "")),
        production_access(client("sesv2")),
        alarm_subscription(client("sns"), outputs.get("AlarmTopicArn", "")),
        *empty_dead_letters(client("sqs"), outputs),
        link_secret(client("secretsmanager"), outputs.get("LinkSecretName", "")),
        *schedules_enabled(client("events"), outputs.get("ScheduleRuleNames", "")),
    ]


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__))


def sender_identity(sesv2: Any, name: str) -> Iterator[Check]:
    """The identity is verified for sending; a domain's DKIM is verified too."""
    from botocore.exceptions import ClientError

    label = f"SES identity {name or '?'}"
    try:
        identity = sesv2.get_email_identity(EmailIdentity=name)
    except ClientError as exc:
        yield Check(label, False, _error_code(exc), "deploy the stack again (the identity is its)")
        return
    verified = identity.get("VerifiedForSendingStatus", False)
    yield Check(
        label,
        verified,
        "verified for sending"
        if verified
        else f"not verified ({identity.get('VerificationStatus', '?')})",
        "add the DNS records in the SES console (README: verifying the sender domain); an "
        "address identity: click the link SES emailed to it",
    )
    if identity.get("IdentityType") == "DOMAIN":
        status = identity.get("DkimAttributes", {}).get("Status", "NOT_STARTED")
        yield Check(
            f"DKIM of {name}",
            status == "SUCCESS",
            f"DKIM {status}",
            "publish the three DKIM CNAME records SES lists for the domain, then wait for DNS",
        )


def production_access(sesv2: Any) -> Check:
    """The account may mail anyone (not only verified addresses, 200 a day)."""
    account = sesv2.get_account()
    enabled = bool(account.get("ProductionAccessEnabled"))
    sending = bool(account.get("SendingEnabled", True))
    quota = account.get("SendQuota", {})
    detail = (
        f"production access, {quota.get('MaxSendRate', '?')}/s"
        if enabled
        else "in the SES sandbox (verified recipients only, 200 a day)"
    )
    if not sending:
        detail += "; sending is paused for the account"
    return Check(
        "SES account",
        enabled and sending,
        detail,
        "request production access: SES console > Account dashboard > Request production "
        "access (README: leaving the SES sandbox)",
    )


def alarm_subscription(sns: Any, topic_arn: str) -> Check:
    """At least one confirmed subscription on the alarm topic."""
    if not topic_arn:
        return Check("alarm subscription", False, "no AlarmTopicArn output", "deploy again")
    arns = [
        s["SubscriptionArn"]
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        for s in page.get("Subscriptions", [])
    ]
    confirmed = [a for a in arns if a.startswith("arn:")]
    pending = len(arns) - len(confirmed)
    return Check(
        "alarm subscription",
        bool(confirmed),
        f"{len(confirmed)} confirmed, {pending} pending confirmation",
        "deploy with -c kbs:alarmEmail=ADDRESS and click the link in the email "
        "'AWS Notification - Subscription Confirmation'",
    )


def empty_dead_letters(sqs: Any, outputs: dict[str, str]) -> Iterator[Check]:
    """Each dead-letter queue of the stack holds no message."""
    for queue in dead_letters.stack_queues(outputs):
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        count = int(attributes.get("ApproximateNumberOfMessages", "0"))
        yield Check(
            f"dead letters of {queue.trigger} ({queue.function})",
            count == 0,
            f"{count} message(s)",
            f"kbs dlq list --show --stack NAME; fix the cause (the function's logs), then "
            f"kbs dlq redrive {queue.trigger} --stack NAME",
        )


def link_secret(secrets: Any, name: str) -> Check:
    """The key that signs personal links exists and is not being deleted."""
    from botocore.exceptions import ClientError

    try:
        described = secrets.describe_secret(SecretId=name)
    except ClientError as exc:
        return Check(
            "link secret",
            False,
            f"{name or '?'}: {_error_code(exc)}",
            "restore it (secretsmanager restore-secret) or deploy again; a new key "
            "invalidates every link already emailed",
        )
    deleting = "DeletedDate" in described
    return Check(
        "link secret",
        not deleting,
        f"{name}: scheduled for deletion" if deleting else f"{name}: present",
        f"aws secretsmanager restore-secret --secret-id {name}",
    )


def schedules_enabled(events: Any, names: str) -> Iterator[Check]:
    """Every scheduled rule (``ScheduleRuleNames``, comma separated) is ENABLED."""
    for name in (n for n in names.split(",") if n and n != "-"):
        state = events.describe_rule(Name=name).get("State", "?")
        yield Check(
            f"schedule {name}",
            state == "ENABLED",
            state,
            f"aws events enable-rule --name {name}",
        )
