"""The registration path on in-process moto, with faults injected where AWS would raise them.

``POST /registrations`` (the real API handler) -> bus -> the declared "Registration Submitted"
rule -> its queue (dead-letter queue after the declared receives) -> the real registration
processor, drained as an event source mapping does: records reported failed, or a whole batch
whose invocation died, come back until they succeed or reach the dead-letter queue.

Faults are injected with botocore's event system on the clients our code uses (no code of
ours is replaced): a ``before-call`` handler raising is an AWS error after the SDK's own
retries; one returning a response answers in AWS's place.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from infra import wiring
from kbs.local.delivery import DeliveryPolicy, sqs_event
from kbs.local.server import WHOLE_EVENT
from shared.platform import clients, keys
from shared.programme import repository
from shared.programme.catalogue import load_programme
from shared.programme.models import Session
from tests.conftest import BUS_NAME, EVENTS, REGION, TABLE_NAME, load_event
from tests.support import Context, sent_emails

POLICY = DeliveryPolicy()
PROCESSOR = wiring.function("registration_processor")
(RULE,) = PROCESSOR.of_kind(wiring.EventRule)
VISIBILITY_SECONDS = POLICY.visibility_timeout_factor * PROCESSOR.timeout_seconds
"""How long a failed record stays hidden before its queue delivers it again."""
JSON_EVENT = "api/post-registration-json.json"
NOW = datetime.fromtimestamp(load_event(JSON_EVENT)["requestContext"]["timeEpoch"] / 1000, UTC)


class ProcessDied(BaseException):
    """The Lambda process dying mid-invocation (out of memory, timeout): nothing it did after
    this point happens, and no partial batch response is returned."""


def fail_calls(client: Any, operation: str, errors: dict[int, BaseException]) -> Counter[str]:
    """Make call number ``n`` (from 1) of ``operation`` on ``client`` raise ``errors[n]``;
    the calls counted in ``["calls"]``."""
    counted: Counter[str] = Counter()

    def inject(**_: Any) -> None:
        counted["calls"] += 1
        error = errors.get(counted["calls"])
        if error is not None:
            raise error

    client.meta.events.register(
        f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}", inject
    )
    return counted


def client_error(code: str, operation: str, **response: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, **response}, operation)


class PartialPutEvents:
    """PutEvents answering ``FailedEntryCount > 0``: entries ``rejects(entry)`` picks fail (as
    EventBridge fails them, with an ``ErrorCode``) while the others go through to the bus."""

    def __init__(self, rejects: Callable[[dict[str, Any]], bool]) -> None:
        self.rejects = rejects
        self.rejected = 0
        self._bus = clients._session().client("events")  # uninstrumented: delivers the rest
        clients.client("events").meta.events.register(
            "before-call.eventbridge.PutEvents", self._answer
        )

    def _answer(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        entries = json.loads(params["body"])["Entries"]
        results: list[dict[str, Any]] = []
        for entry in entries:
            if "Time" in entry:
                entry["Time"] = datetime.fromtimestamp(entry["Time"], UTC)
            if self.rejects(entry):
                self.rejected += 1
                results.append(
                    {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}
                )
            else:
                (accepted,) = self._bus.put_events(Entries=[entry])["Entries"]
                results.append(accepted)
        failed = sum("ErrorCode" in r for r in results)
        response = AWSResponse("https://events.local/", 200, {}, None)
        return response, {"FailedEntryCount": failed, "Entries": results}


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


class Pipeline:
    """The API and the registration processor on moto (needs the ``aws`` fixture)."""

    def __init__(self) -> None:
        self.programme: list[Session] = load_programme(EVENTS / "programme.sample.json", NOW)
        for session in self.programme:
            repository.put_session(TABLE_NAME, session)
        sqs = clients.client("sqs")
        self.dead_letter_url = sqs.create_queue(QueueName="registrations-dlq")["QueueUrl"]
        dlq_arn = self._arn(self.dead_letter_url)
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": POLICY.max_receive_count}
        # Visibility 0: the redelivery a real queue makes after VISIBILITY_SECONDS comes at once;
        # :meth:`_time_passes` moves what depends on the wall clock (send-once leases) instead.
        self.url = sqs.create_queue(
            QueueName="registrations",
            Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps(redrive)},
        )["QueueUrl"]
        events = clients.client("events")
        events.put_rule(
            Name=RULE.name, EventBusName=BUS_NAME, EventPattern=json.dumps(RULE.pattern)
        )
        events.put_targets(
            Rule=RULE.name,
            EventBusName=BUS_NAME,
            Targets=[
                {
                    "Id": PROCESSOR.name,
                    "Arn": self._arn(self.url),
                    "DeadLetterConfig": {"Arn": dlq_arn},
                    "InputTransformer": WHOLE_EVENT,
                }
            ],
        )
        self.invocations = 0
        self.crashes = 0
        self.failed_records = 0

    @property
    def session_ids(self) -> list[str]:
        return [s.session_id for s in self.programme]

    # --- the registrant's side ------------------------------------------------------------

    def post(self, email: str, sessions: list[str]) -> Reply:
        """``POST /registrations`` (JSON) through the real API handler."""
        from functions.api.handler import handler

        event = load_event(JSON_EVENT)
        document = json.loads(event["body"]) | {"email": email, "sessions": sessions}
        event["body"] = json.dumps(document)
        event["requestContext"]["requestId"] = base64.b64encode(uuid.uuid4().bytes).decode()
        response = handler(event, Context(function_name="api"))
        return Reply(response["statusCode"], json.loads(response["body"]))

    # --- the queue's side -----------------------------------------------------------------

    def deliver(self) -> int:
        """Drain the queue into the processor until it is empty; the records delivered."""
        from functions.registration_processor.handler import handler

        sqs, delivered = clients.client("sqs"), 0
        while True:
            messages = sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=POLICY.batch_size,
                MessageSystemAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return delivered
            delivered += len(messages)
            self.invocations += 1
            try:
                response = handler(sqs_event(messages, self._arn(self.url), REGION), Context())
            except ProcessDied:
                self.crashes += 1
                self._time_passes()
                continue  # nothing deleted: the whole batch comes back
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            self.failed_records += len(failed)
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                sqs.delete_message_batch(
                    QueueUrl=self.url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done)
                    ],
                )
            if failed:
                self._time_passes()

    def dead_letters(self) -> int:
        attributes = clients.client("sqs").get_queue_attributes(
            QueueUrl=self.dead_letter_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def _time_passes(self) -> None:
        """The failed records' visibility timeout runs out before they come back: the
        send-once claims whose lease ends by then have expired (the lease is on the wall
        clock, which the test cannot move)."""
        records = clients.table(TABLE_NAME)
        now = int(datetime.now(UTC).timestamp())
        claims = records.scan(
            FilterExpression=Attr("type").eq("email") & Attr("state").eq("sending")
        )["Items"]
        for claim in claims:
            if int(claim["lease_until"]) <= now + VISIBILITY_SECONDS:
                records.update_item(
                    Key={"PK": claim["PK"], "SK": claim["SK"]},
                    UpdateExpression="SET lease_until = :past",
                    ExpressionAttributeValues={":past": now - 1},
                )

    @staticmethod
    def _arn(url: str) -> str:
        return f"arn:aws:sqs:{REGION}:123456789012:{url.rsplit('/', 1)[-1]}"

    # --- what came of it ------------------------------------------------------------------

    def registrations(self) -> Counter[tuple[str, str]]:
        """(session id, email) of every registration item, counted."""
        found: Counter[tuple[str, str]] = Counter()
        for session_id in self.session_ids:
            items = clients.table(TABLE_NAME).query(
                KeyConditionExpression="PK = :pk AND begins_with(SK, :reg)",
                ExpressionAttributeValues={
                    ":pk": keys.session_pk(session_id),
                    ":reg": keys.REGISTRATION_SK_PREFIX,
                },
            )["Items"]
            found.update((session_id, str(item["email"])) for item in items)
        return found

    def confirmed_counters(self) -> dict[str, int]:
        """Each session's ``confirmed`` counter (what capacity checks read)."""
        return {
            sid: int(
                clients.table(TABLE_NAME)
                .get_item(Key={"PK": keys.session_pk(sid), "SK": keys.META})["Item"]
                .get("confirmed", 0)
            )
            for sid in self.session_ids
        }

    @staticmethod
    def emails() -> Counter[tuple[str, str, str]]:
        """(recipient, kind, subject) of every email moto's SES accepted, counted."""
        return Counter(
            (m["To"].addresses[0].addr_spec, str(m["X-KBS-Kind"]), str(m["Subject"]))
            for m in sent_emails()
        )
