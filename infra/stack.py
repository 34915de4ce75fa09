"""The Kbs stack, generated from the wiring declaration (:mod:`infra.wiring`).

The stack composes constructs; every function, route, rule, schedule and work queue comes
from ``wiring.FUNCTIONS``, never from a list written here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import wiring
from infra.constructs import (
    Data,
    DeadLetterAlarms,
    Dependencies,
    Email,
    EventBusWithArchive,
    EventRuleTrigger,
    LinkSecret,
    Materials,
    PublicHttpApi,
    ScheduleTrigger,
    ServiceFunction,
    WorkQueueTrigger,
)
from infra.constructs.dependencies_layer import DependenciesLayer
from infra.constructs.monitoring import Monitoring
from infra.constructs.names import construct_id
from infra.constructs.service_function import RETENTION_DAYS
from infra.deployment import Deployment
from infra.runtime import powertools_layer_arn
from shared.platform.settings import Settings

# Every source our own code publishes; the archive keeps all of them.
OUR_SOURCES = (wiring.SOURCE_REGISTRATIONS, wiring.SOURCE_SESSIONS, wiring.SOURCE_ATTENDANCE)
# Outputs ``DeadLetters<Name>``: JSON describing each dead-letter queue (``kbs/dead_letters.py``).
DEAD_LETTERS_OUTPUT_PREFIX = "DeadLetters"
PRESENTATION_CONTEXT = {
    "kbs:seriesName": "KBS_SERIES_NAME",
    "kbs:logoUrl": "KBS_LOGO_URL",
    "kbs:privacyUrl": "KBS_PRIVACY_URL",
    "kbs:contactEmail": "KBS_CONTACT_EMAIL",
}
"""Context keys (``cdk.json`` or ``-c``) of the series' presentation, and their variables
(:class:`shared.platform.settings.Settings` ``series_name``, ``logo_url``, ``privacy_url``,
``contact_email``); a key not given leaves the setting's default."""


def presentation_default(variable: str) -> str:
    """The default of the setting read from ``variable`` (``KBS_SERIES_NAME``...)."""
    return str(Settings.model_fields[variable.removeprefix("KBS_").lower()].default)


class KbsStack(Stack):
    """Data, events, email, materials and secret; then one Lambda per declared function,
    wired to its HTTP routes, event rules and schedules."""

    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        functions: Sequence[wiring.Function] = wiring.FUNCTIONS,
        **stack_props: Any,
    ) -> None:
        super().__init__(scope, construct_id_, **stack_props)
        data = Data(self, "Data", spec=wiring.TABLE)
        app_bus = EventBusWithArchive(self, "Events", sources=OUR_SOURCES)
        materials = Materials(self, "Materials")
        deployment = Deployment.from_context(self.node.try_get_context)
        email = Email(
            self,
            "Email",
            sender=self._context("kbs:senderEmail"),
            domain=deployment.sender_domain or None,
            identity_arn=deployment.sender_identity_arn or None,
        )
        link_secret = LinkSecret(self, "LinkSecret")
        alarms = DeadLetterAlarms(self, "DeadLetterAlarms")
        default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        buses: dict[str, events.IEventBus] = {"app": app_bus.bus, "default": default_bus}
        work_queues = {
            name: WorkQueueTrigger(
                self, construct_id("queue", name), spec=spec, consumer=consumer, alarms=alarms
            )
            for name, (consumer, spec) in wiring.work_queues(tuple(functions)).items()
        }

        deps = Dependencies(
            table=data.table,
            bus=app_bus.bus,
            materials=materials,
            email=email,
            link_secret=link_secret.secret,
            public_base_url=self._context("kbs:publicBaseUrl"),
            organiser_email=self._context("kbs:organiserEmail"),
            email_send_rate=self._context("kbs:emailSendRate"),
            retention_days=str(self.node.try_get_context("kbs:retentionDays") or RETENTION_DAYS),
            record_retention_years=self._context("kbs:recordRetentionYears"),
            feedback_url=str(self.node.try_get_context("kbs:feedbackUrl") or ""),
            presentation={
                variable: str(self.node.try_get_context(name) or presentation_default(variable))
                for name, variable in PRESENTATION_CONTEXT.items()
            },
            cap_per_address_per_day=self._context("kbs:capPerAddressPerDay"),
            cap_per_client_per_hour=self._context("kbs:capPerClientPerHour"),
            work_queues={name: trigger.queue for name, trigger in work_queues.items()},
        )
        # The public Powertools layer (Powertools, pydantic, ...) and ours (requirements/layer.in).
        layers = (
            lambda_.LayerVersion.from_layer_version_arn(
                self, "PowertoolsLayer", powertools_layer_arn(Aws.PARTITION, Aws.REGION)
            ),
            DependenciesLayer(self, "Dependencies").layer,
        )
        self.functions = {
            spec.name: ServiceFunction(
                self, construct_id(spec.name), spec=spec, deps=deps, layers=layers, alarms=alarms
            )
            for spec in functions
        }
        api = PublicHttpApi(self, "HttpApi", functions=self.functions.values())
        monitoring = Monitoring(
            self,
            "Monitoring",
            alarms=alarms,
            functions=self.functions.values(),
            api=api,
            alarm_email=deployment.alarm_email,
            monthly_budget=deployment.monthly_budget,
        )
        for name, (consumer, _) in wiring.work_queues(tuple(functions)).items():
            work_queues[name].drain_into(self.functions[consumer.name])
        schedule_rules: list[str] = []
        for fn in self.functions.values():
            for rule in fn.spec.of_kind(wiring.EventRule):
                EventRuleTrigger(
                    self,
                    construct_id("rule", rule.name),
                    spec=replace(
                        rule,
                        pattern=wiring.resolved_pattern(
                            rule.pattern, bucket=materials.bucket.bucket_name
                        ),
                    ),
                    bus=buses[rule.bus],
                    target=fn,
                    alarms=alarms,
                )
            for schedule in fn.spec.of_kind(wiring.Schedule):
                trigger = ScheduleTrigger(
                    self, construct_id("schedule", schedule.name), spec=schedule, target=fn
                )
                schedule_rules.append(trigger.rule.rule_name)

        for name, value in {
            "TableName": data.table.table_name,
            "EventBusName": app_bus.bus.event_bus_name,
            "ApiUrl": api.url,
            "MaterialsBucketName": materials.bucket.bucket_name,
            "ConfigurationSetName": email.configuration_set.configuration_set_name,
            "LinkSecretName": link_secret.secret.secret_name,
            "DeadLetterTopicArn": alarms.topic.topic_arn,
            "AlarmTopicArn": alarms.topic.topic_arn,
            "SenderIdentityName": email.identity_name,
            "ScheduleRuleNames": ",".join(schedule_rules) or "-",
            "DashboardName": monitoring.dashboard.dashboard_name,
            # `kbs message` enqueues an organiser's message here, as the notice functions do.
            **(
                {"EmailBatchesQueueUrl": work_queues[wiring.EMAIL_BATCHES].queue.queue_url}
                if wiring.EMAIL_BATCHES in work_queues
                else {}
            ),
        }.items():
            CfnOutput(self, name, value=value)
        # One per dead-letter queue: where its messages came from and go back to (`kbs dlq`).
        for watched in alarms.watched:
            CfnOutput(
                self,
                construct_id(DEAD_LETTERS_OUTPUT_PREFIX, watched.name),
                value=self.to_json_string(watched.description()),
                description=f"Dead letters of {watched.trigger} ({watched.function})",
            )

    def _context(self, key: str) -> str:
        value = self.node.try_get_context(key)
        if not value:
            raise ValueError(f"missing CDK context {key!r} (see cdk.json)")
        return str(value)
