"""One Lambda function of the wiring: code, runtime, layers, logs, role, environment, grants."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from infra import permissions, wiring
from infra.constructs.alarms import DeadLetterAlarms
from infra.constructs.email import Email
from infra.constructs.materials import Materials
from infra.constructs.nag import acknowledge
from infra.constructs.queues import dead_letter_queue
from infra.runtime import ARCHITECTURE, REPO_ROOT, RUNTIME
from infra.wiring import (
    CERTIFICATES_PREFIX,
    DEAD_LETTER_QUEUES_VARIABLE,
    MATERIALS_PREFIX,
    QUARANTINE_PREFIX,
)
from shared.platform.settings import Settings

# Ship only the Lambda packages; everything else in the repository stays out of the zip.
CODE_EXCLUDE = ["*", ".*", "!functions", "!functions/**", "!shared", "!shared/**", "**/__pycache__"]

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
SERVICE = "kbs"
MATERIAL_MAX_BYTES = Settings.model_fields["material_max_bytes"].default
RETENTION_DAYS = Settings.model_fields["retention_days"].default
RECORD_RETENTION_YEARS = Settings.model_fields["record_retention_years"].default
CAP_PER_ADDRESS_PER_DAY = Settings.model_fields["cap_per_address_per_day"].default
CAP_PER_CLIENT_PER_HOUR = Settings.model_fields["cap_per_client_per_hour"].default
METRICS_NAMESPACE = "KnowledgeBuildingSeries"


@dataclass(frozen=True)
class Dependencies:
    """What a function may be granted (per its ``Access``) and finds in its environment."""

    table: dynamodb.ITable
    bus: events.IEventBus
    materials: Materials
    email: Email
    link_secret: secretsmanager.ISecret
    public_base_url: str
    organiser_email: str
    email_send_rate: str = "0"
    retention_days: str = str(RETENTION_DAYS)
    """Days personal data is kept after its session ends (``-c kbs:retentionDays=N``)."""
    record_retention_years: str = str(RECORD_RETENTION_YEARS)
    """Years attendance and certificates are kept after a session (``kbs:recordRetentionYears``)."""
    feedback_url: str = ""
    """The follow-up's feedback form (``-c kbs:feedbackUrl=...``); empty: a reply by email."""
    presentation: Mapping[str, str] = field(default_factory=dict)
    """How the series presents itself: ``KBS_SERIES_NAME``, ``KBS_LOGO_URL``,
    ``KBS_PRIVACY_URL``, ``KBS_CONTACT_EMAIL`` (``-c kbs:seriesName=...`` and so on)."""
    cap_per_address_per_day: str = str(CAP_PER_ADDRESS_PER_DAY)
    """Submissions one address may receive email for in a UTC day (``kbs:capPerAddressPerDay``)."""
    cap_per_client_per_hour: str = str(CAP_PER_CLIENT_PER_HOUR)
    """Submissions from one client IP in a UTC hour (``kbs:capPerClientPerHour``)."""
    work_queues: Mapping[str, sqs.IQueue] = field(default_factory=dict)
    """Each declared ``WorkQueue`` by name; functions get the URL of those they send to."""

    def environment(self) -> dict[str, str]:
        """The variables ``shared.platform.settings`` and Powertools read."""
        return {
            "KBS_TABLE_NAME": self.table.table_name,
            "KBS_EVENT_BUS_NAME": self.bus.event_bus_name,
            "KBS_BUCKET_NAME": self.materials.bucket.bucket_name,
            "KBS_SENDER_EMAIL": self.email.sender,
            "KBS_CONFIGURATION_SET": self.email.configuration_set.configuration_set_name,
            "KBS_PUBLIC_BASE_URL": self.public_base_url,
            "KBS_LINK_SECRET_NAME": self.link_secret.secret_name,
            "KBS_ORGANISER_EMAIL": self.organiser_email,
            "KBS_MATERIAL_MAX_BYTES": str(MATERIAL_MAX_BYTES),
            "KBS_EMAIL_SEND_RATE": self.email_send_rate,
            "KBS_RETENTION_DAYS": self.retention_days,
            "KBS_RECORD_RETENTION_YEARS": self.record_retention_years,
            "KBS_FEEDBACK_URL": self.feedback_url,
            "KBS_CAP_PER_ADDRESS_PER_DAY": self.cap_per_address_per_day,
            "KBS_CAP_PER_CLIENT_PER_HOUR": self.cap_per_client_per_hour,
            **self.presentation,
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }


class ServiceFunction(Construct):
    """The Lambda for ``spec``, with its own role granted exactly what ``spec.access`` says."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: wiring.Function,
        deps: Dependencies,
        layers: Sequence[lambda_.ILayerVersion],
        alarms: DeadLetterAlarms,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self._dead_letters: dict[str, str] = {}
        # Scheduled rules invoke asynchronously: failures after the retries land here.
        self.dead_letters = (
            dead_letter_queue(self, "AsyncDeadLetters") if spec.of_kind(wiring.Schedule) else None
        )
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION)
        # Our own role instead of AWSLambdaBasicExecutionRole: logs to this log group only.
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=lambda_.Code.from_asset(str(REPO_ROOT), exclude=CODE_EXCLUDE),
            layers=list(layers),
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=Duration.seconds(spec.timeout_seconds),
            memory_size=spec.memory_mb,
            dead_letter_queue=self.dead_letters,
            environment=deps.environment(),
        )
        if self.dead_letters:
            alarms.watch(
                self.dead_letters,
                f"{spec.name} async",
                trigger=", ".join(s.name for s in spec.of_kind(wiring.Schedule)),
                function=spec.name,
                source_function=self.function,
            )
        self._grant(spec.access, deps)
        self._acknowledge()

    def _grant(self, access: wiring.Access, deps: Dependencies) -> None:
        fn = self.function
        self._grant_table(deps.table)
        if access.publish_events:
            deps.bus.grant_put_events_to(fn)
        if access.send_email:
            deps.email.grant_send(fn)
        if access.bucket != "none":
            deps.materials.grant(fn, write=access.bucket == "write")
            self._acknowledge_wildcard(
                deps.materials.bucket,
                f"/{MATERIALS_PREFIX}*",
                "Object access is limited to the materials prefix; keys are per session and file.",
            )
            if access.bucket == "write":
                self._acknowledge_wildcard(
                    deps.materials.bucket,
                    f"/{QUARANTINE_PREFIX}*",
                    "Rejected uploads are moved under the quarantine prefix, one key per upload.",
                )
        if access.certificates != "none":
            deps.materials.grant_certificates(fn, write=access.certificates == "write")
            self._acknowledge_wildcard(
                deps.materials.bucket,
                f"/{CERTIFICATES_PREFIX}*",
                "Object access is limited to the certificates prefix; one key per number.",
            )
        if access.link_secret:
            deps.link_secret.grant_read(fn)
        for name in access.send_to:
            queue = deps.work_queues[name]
            queue.grant_send_messages(fn)
            fn.add_environment(wiring.queue_url_variable(name), queue.queue_url)

    def _grant_table(self, table: dynamodb.ITable) -> None:
        """Exactly the declared actions on the table, and ``Query`` on each declared index
        (:func:`infra.permissions.grants`): no ``Scan``, no stream actions, no wildcard."""
        for grant in permissions.grants(self.spec):
            if grant.resource == permissions.TABLE:
                resource = table.table_arn
            elif grant.resource.startswith(permissions.index("")):
                name = grant.resource.removeprefix(permissions.index(""))
                resource = f"{table.table_arn}/index/{name}"
            else:
                continue
            self.role.add_to_principal_policy(
                iam.PolicyStatement(actions=list(grant.actions), resources=[resource])
            )

    def dead_letter_at_once(self, source: sqs.IQueue, dead_letters: sqs.IQueue) -> None:
        """Let the function send records from ``source`` that can never succeed straight to
        ``dead_letters``: exactly ``sqs:SendMessage`` on that queue, and its URL in
        ``KBS_DEAD_LETTER_QUEUES`` (JSON ``{source ARN: URL}``,
        ``shared.platform.records.drain``)."""
        dead_letters.grant(self.function, "sqs:SendMessage")
        self._dead_letters[source.queue_arn] = dead_letters.queue_url
        self.function.add_environment(
            DEAD_LETTER_QUEUES_VARIABLE, json.dumps(self._dead_letters, separators=(",", ":"))
        )

    def _acknowledge_wildcard(self, resource: IConstruct, suffix: str, reason: str) -> None:
        """Acknowledge, on this role, the IAM5 finding for ``<resource ARN><suffix>`` only."""
        logical_id = Stack.of(self).get_logical_id(resource.node.default_child)  # type: ignore[arg-type]
        acknowledge(self.role, f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>{suffix}]", reason)

    def _acknowledge(self) -> None:
        """The findings that stay, each on the narrowest construct, each with its reason."""
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no "
            "resource-level permissions.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "The runtime is python3.13, the latest Python Lambda supports with a public "
            "Powertools v3 layer (infra/runtime.py); move runtime and layer together.",
        )
        acknowledge(
            self.function,
            "Serverless-LambdaLatestVersion",
            "The runtime is python3.13, the latest Python Lambda supports with a public "
            "Powertools v3 layer (infra/runtime.py); move runtime and layer together.",
        )
        if not self.dead_letters:
            acknowledge(
                self.function,
                "Serverless-LambdaDLQ",
                "Never invoked asynchronously: HTTP routes invoke it synchronously and queue "
                "triggers dead-letter through the queue's redrive policy.",
            )
        if self.spec.of_kind(wiring.EventRule) or self.spec.of_kind(wiring.WorkQueue):
            acknowledge(
                self.function,  # its event source mappings are its children
                "Serverless-LambdaEventSourceMappingDestination",
                "SQS event source mappings support no on-failure destination: failed records "
                "return to the queue and its redrive policy moves them to the dead-letter queue.",
            )
