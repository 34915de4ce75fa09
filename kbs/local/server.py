"""moto in server mode on loopback, provisioned from :mod:`infra.wiring`, and the whole stack.

:func:`provision` creates what the CDK stack creates, derived from the declaration: the
table (:data:`infra.wiring.TABLE`), the app bus, one rule per :class:`~infra.wiring.EventRule`
(its pattern, on its bus) targeting its own queue (with a dead-letter queue), one queue (with a
dead-letter queue) per :class:`~infra.wiring.WorkQueue`, one scheduled rule per
:class:`~infra.wiring.Schedule`, the materials bucket (notifications to EventBridge), the
verified SES sender, a configuration set and the link-signing secret (its key from the data
dir: links in old emails still verify after a restart).

:class:`LocalStack` runs it: moto and the outbox writer in a process of their own
(:mod:`kbs.local.moto_process`), and in this one the gateway, the delivery pollers and the
clock, and ``DATA_DIR/local.json`` while it runs. moto is in memory: every start is fresh.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.wiring import (
    DEAD_LETTER_QUEUES_VARIABLE,
    FUNCTIONS,
    EventRule,
    Function,
    Schedule,
    WorkQueue,
    queue_url_variable,
    resolved_pattern,
    work_queues,
)
from kbs.local.clock import Clock, ScheduledRule, Scheduler, event_time
from kbs.local.delivery import Delivery, DeliveryPolicy, Poller, Queue, queue_arn
from kbs.local.drain import Drain
from kbs.local.event_time import stamp_put_events
from kbs.local.gateway import LOOPBACK, Gateway
from kbs.local.moto_process import MotoProcess
from kbs.local.outbox import forget
from kbs.local.provisioning import create_table
from kbs.local.runtime import FAKE_CREDENTIALS, Invoker, aws_environment, patched_environ
from kbs.local.sandbox import SandboxPool
from kbs.local.state import (
    OUTBOX,
    DataDirLock,
    UncleanStop,
    link_key,
    recover_unclean_stop,
    remove_info,
    set_outbox_aside,
    write_info,
)
from shared.platform.settings import Settings

REGION = "eu-west-1"
SANDBOXES = {"api": 3, "registration_processor": 2}
"""The functions run in sandbox processes by default, and how many of each: ``api`` answers
``POST /registrations``, ``registration_processor`` books them (its queue gets a poller per
sandbox); the rest run one invocation at a time each in the serve process."""

_EVENT_FIELDS = ("version", "id", "detail-type", "source", "account", "time", "region")
# moto's default rule target input drops ``account`` from the event; this transformer gives
# the queue the whole event, exactly as EventBridge delivers it without one.
WHOLE_EVENT = {
    "InputPathsMap": {
        key: f"$.{key}" for key in (*_EVENT_FIELDS, "resources", "detail") if key != "version"
    },
    "InputTemplate": "{"
    + ", ".join(
        f'"{key}": "0"' if key == "version" else f'"{key}": "<{key}>"' for key in _EVENT_FIELDS
    )
    + ', "resources": <resources>, "detail": <detail>}',
}


@dataclass(frozen=True)
class Names:
    """Resource names of the local stack (the CDK stack lets CloudFormation pick its own)."""

    table: str = "kbs-local"
    event_bus: str = "kbs-local"
    bucket: str = "kbs-local-materials"
    configuration_set: str = "kbs-local"
    link_secret: str = "kbs-local-link-secret"  # noqa: S105 (a secret name, not a key)
    sender_email: str = Settings.model_fields["sender_email"].default
    queue_prefix: str = "kbs-local-"

    def bus(self, rule: EventRule) -> str:
        return self.event_bus if rule.bus == "app" else "default"


@dataclass(frozen=True)
class Resources:
    """What provisioning made that the runtime drives."""

    queues: list[Queue]
    schedules: list[ScheduledRule]

    def queue_environment(self) -> dict[str, str]:
        """The URL variable of each work queue (senders read them, as in the CDK stack), and
        every queue's dead-letter queue by its ARN (consumers dead-letter records that can
        never succeed there at once; one process runs every function, so all of them)."""
        return {
            **{
                queue_url_variable(q.rule): q.url
                for q in self.queues
                if isinstance(q.trigger, WorkQueue)
            },
            DEAD_LETTER_QUEUES_VARIABLE: json.dumps(
                {q.arn: q.dead_letter_url for q in self.queues}
            ),
        }


def moto_client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client of its own for moto (clients are thread-safe, their creation is not)."""
    import boto3

    credentials = {
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    return boto3.session.Session().client(  # type: ignore[call-overload]
        service, endpoint_url=endpoint_url, region_name=region, **credentials
    )


def provision(
    functions: tuple[Function, ...],
    names: Names,
    endpoint_url: str,
    region: str,
    policy: DeliveryPolicy,
    link_key: str,
) -> Resources:
    """Create every resource the declaration implies (the link-signing secret holds
    ``link_key``); the queues and schedules to drive."""

    def aws(service: str) -> Any:
        return moto_client(service, endpoint_url, region)

    with patched_environ(aws_environment(endpoint_url, region)):
        create_table(names.table)  # kbs.local.provisioning reads the endpoint from the environment
    aws("events").create_event_bus(Name=names.event_bus)
    s3 = aws("s3")
    s3.create_bucket(Bucket=names.bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_notification_configuration(
        Bucket=names.bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    s3.put_bucket_versioning(  # as in the CDK stack: every upload is a version of its own
        Bucket=names.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    ses = aws("sesv2")
    ses.create_configuration_set(ConfigurationSetName=names.configuration_set)
    ses.create_email_identity(  # moto verifies it at once
        EmailIdentity=names.sender_email, ConfigurationSetName=names.configuration_set
    )
    aws("secretsmanager").create_secret(
        Name=names.link_secret,
        SecretString=link_key,
    )
    queues = [
        _rule_to_queue(aws("events"), aws("sqs"), fn, rule, names, region, policy)
        for fn in functions
        for rule in fn.of_kind(EventRule)
    ]
    queues += [
        _work_queue(aws("sqs"), fn, queue, names, region, policy)
        for fn, queue in work_queues(functions).values()
    ]
    schedules = [
        # Stored for parity (moto never fires it, nor can it invoke a Lambda target).
        ScheduledRule(fn, schedule, _put_schedule(aws("events"), schedule))
        for fn in functions
        for schedule in fn.of_kind(Schedule)
    ]
    return Resources(queues, schedules)


def _rule_to_queue(
    events: Any,
    sqs: Any,
    fn: Function,
    rule: EventRule,
    names: Names,
    region: str,
    policy: DeliveryPolicy,
) -> Queue:
    """The rule, on its bus with its pattern, targeting a new queue with a dead-letter queue."""
    name = f"{names.queue_prefix}{rule.name}"
    url, dead_letter_url = _queue_with_dead_letters(sqs, name, fn, region, policy)
    dead_letter_arn = queue_arn(f"{name}-dlq", region)
    bus = names.bus(rule)
    events.put_rule(
        Name=rule.name,
        EventBusName=bus,
        EventPattern=json.dumps(resolved_pattern(rule.pattern, bucket=names.bucket)),
        Description=f"{rule.name} -> {fn.name}",
    )
    target = {
        "Id": fn.name,
        "Arn": queue_arn(name, region),
        "DeadLetterConfig": {"Arn": dead_letter_arn},
        "InputTransformer": WHOLE_EVENT,
    }
    events.put_targets(Rule=rule.name, EventBusName=bus, Targets=[target])
    return Queue(fn, rule.name, name, url, queue_arn(name, region), dead_letter_url, rule)


def _work_queue(
    sqs: Any, fn: Function, spec: WorkQueue, names: Names, region: str, policy: DeliveryPolicy
) -> Queue:
    """A queue our code feeds, with a dead-letter queue, drained into ``fn``."""
    name = f"{names.queue_prefix}{spec.name}"
    url, dead_letter_url = _queue_with_dead_letters(sqs, name, fn, region, policy)
    return Queue(fn, spec.name, name, url, queue_arn(name, region), dead_letter_url, spec)


def _queue_with_dead_letters(
    sqs: Any, name: str, fn: Function, region: str, policy: DeliveryPolicy
) -> tuple[str, str]:
    """Queue ``name`` (visibility timeout for ``fn``) and ``{name}-dlq``; both URLs."""
    retention = policy.dead_letter_retention_days * 24 * 3600
    dead_letter_url = sqs.create_queue(
        QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": str(retention)}
    )["QueueUrl"]
    dead_letter_arn = queue_arn(f"{name}-dlq", region)
    redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": policy.max_receive_count}
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(policy.visibility_timeout_factor * fn.timeout_seconds),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    return url, dead_letter_url


def _put_schedule(events: Any, schedule: Schedule) -> str:
    response = events.put_rule(Name=schedule.name, ScheduleExpression=schedule.expression)
    return str(response["RuleArn"])


class LocalStack:
    """The local stack on ``DATA_DIR``: :meth:`start` it, :meth:`stop` it (or use ``with``)."""

    def __init__(
        self,
        data_dir: Path,
        port: int = 8000,
        clock: Clock | None = None,
        functions: tuple[Function, ...] = FUNCTIONS,
        names: Names | None = None,
        region: str = REGION,
        delivery: DeliveryPolicy | None = None,
        cap_loopback: bool = False,
        sandboxes: Mapping[str, int] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.clock = clock or Clock()
        self.functions = functions
        self.names = names or Names()
        self.region = region
        self.delivery = delivery or DeliveryPolicy()
        # The submission caps (shared.registrations.caps) leave 127.0.0.1 alone unless asked.
        self.cap_loopback = cap_loopback
        # Functions run in sandbox processes, concurrently (name -> how many).
        self.sandboxes = dict(SANDBOXES if sandboxes is None else sandboxes)
        self.info: dict[str, Any] = {}
        self.unclean_stop: UncleanStop | None = None
        self.previous_outbox: Path | None = None
        """Where the previous run's emails were moved at start, if it left any."""
        """Set by :meth:`start` when the previous run on the data dir did not stop cleanly."""
        self.drain: Drain | None = None
        """Set by :meth:`start`: a clean stop drains the accepted work with it first."""
        self._running = ExitStack()

    def start(self) -> dict[str, Any]:
        """Start everything (each step undone by :meth:`stop`, also if a later one fails)."""
        with ExitStack() as starting:
            lock = DataDirLock(self.data_dir)
            lock.acquire()
            starting.callback(lock.release)
            self.unclean_stop = recover_unclean_stop(self.data_dir)
            self.previous_outbox = set_outbox_aside(self.data_dir)
            key = link_key(self.data_dir)
            moto = MotoProcess(LOOPBACK, self.data_dir / OUTBOX)  # with the outbox writer
            endpoint = moto.start()
            starting.callback(moto.stop)  # stopped last: the last emails are written then
            starting.callback(stamp_put_events(self.clock))  # before any client is made
            gateway = Gateway(self.functions, self.clock, self.port)  # binds: the URL is known
            starting.callback(gateway.stop)
            environment = self._environment(gateway.url)
            aws = aws_environment(endpoint, self.region)
            starting.enter_context(patched_environ({**aws, **environment}))
            pools = {  # they import their handler while provisioning runs
                fn.name: SandboxPool(fn, self.region, self.sandboxes[fn.name], self.clock)
                for fn in self.functions
                if self.sandboxes.get(fn.name, 0) > 0
            }
            for pool in pools.values():
                starting.callback(pool.stop)
            resources = provision(
                self.functions, self.names, endpoint, self.region, self.delivery, key
            )
            environment |= resources.queue_environment()
            starting.enter_context(patched_environ(environment))
            for pool in pools.values():
                pool.start(dict(os.environ))  # with the queue URLs
            invoker = Invoker(self.functions, self.region, pools)
            outbox = self.data_dir / OUTBOX
            # An erasure by link (the privacy function runs in this process) drops the copies.
            # Imported here: handler modules (and their loggers, bound to stdout on import) stay
            # out of commands that only import this module (``kbs invoke`` redirects stdout).
            from shared.privacy import rights

            forget_copies = functools.partial(forget, outbox)
            rights.ERASURE_LISTENERS.append(forget_copies)
            starting.callback(rights.ERASURE_LISTENERS.remove, forget_copies)
            scheduler = Scheduler(resources.schedules, self.clock, invoker, self.region)
            scheduler.start()
            starting.callback(scheduler.stop)
            delivery = Delivery(  # a poller per sandbox, as Lambda scales a queue's pollers
                [
                    self._poller(q, invoker, endpoint)
                    for q in resources.queues
                    for _ in range(max(1, self.sandboxes.get(q.function.name, 0)))
                ]
            )
            delivery.start()
            starting.callback(delivery.stop)
            gateway.start(invoker, scheduler)
            starting.callback(gateway.stop)  # on stop, stop taking requests first
            sqs = moto_client("sqs", endpoint, self.region)
            self.drain = Drain([gateway, scheduler], delivery, resources.queues, sqs)
            self.info = self._describe(gateway.url, endpoint, resources, environment, outbox)
            self.info["moto_pid"] = moto.pid
            self.info["sandbox_pids"] = [pid for pool in pools.values() for pid in pool.pids]
            write_info(self.data_dir, self.info)
            starting.callback(remove_info, self.data_dir)
            self.clock.listen(self._clock_moved)  # commands read the clock from local.json
            starting.callback(self.clock.forget, self._clock_moved)
            self._running = starting.pop_all()
        return self.info

    def stop(self) -> None:
        """Stop serving, deliver nothing more, write the last emails, remove ``local.json``
        (what is still queued is lost: :attr:`drain` finishes it first)."""
        self._running.close()

    def __enter__(self) -> dict[str, Any]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _clock_moved(self, at: datetime | None) -> None:
        self.info["clock"] = event_time(at) if at else "real"
        write_info(self.data_dir, self.info)

    def _poller(self, queue: Queue, invoker: Invoker, endpoint: str) -> Poller:
        sqs = moto_client("sqs", endpoint, self.region)  # a client per polling thread
        declared = queue.trigger if isinstance(queue.trigger, WorkQueue) else None
        batch_size = declared.batch_size if declared else self.delivery.batch_size
        return Poller(queue, invoker, self.region, sqs, batch_size, self.clock)

    def _environment(self, api_url: str) -> dict[str, str]:
        """The ``KBS_*`` variables the handlers read
        (:class:`shared.platform.settings.Settings`)."""
        return {
            "KBS_TABLE_NAME": self.names.table,
            "KBS_EVENT_BUS_NAME": self.names.event_bus,
            "KBS_BUCKET_NAME": self.names.bucket,
            "KBS_SENDER_EMAIL": self.names.sender_email,
            "KBS_CONFIGURATION_SET": self.names.configuration_set,
            "KBS_PUBLIC_BASE_URL": api_url,
            "KBS_LINK_SECRET_NAME": self.names.link_secret,
            "KBS_CAP_EXEMPT_LOOPBACK": "false" if self.cap_loopback else "true",
        }

    def _describe(
        self,
        api_url: str,
        endpoint: str,
        resources: Resources,
        environment: dict[str, str],
        outbox: Path,
    ) -> dict[str, Any]:
        return {
            "status": "running",
            "pid": os.getpid(),
            "started_at": event_time(datetime.now(UTC)),
            "api_url": api_url,
            "aws_endpoint_url": endpoint,
            "region": self.region,
            "bucket": self.names.bucket,
            "table": self.names.table,
            "event_bus": self.names.event_bus,
            "sender_email": self.names.sender_email,
            "configuration_set": self.names.configuration_set,
            "queues": {q.rule: q.url for q in resources.queues},
            "dead_letter_queues": {q.rule: q.dead_letter_url for q in resources.queues},
            "schedules": {r.schedule.name: r.schedule.expression for r in resources.schedules},
            "clock": event_time(self.clock.now()) if self.clock.simulated else "real",
            "outbox": str(outbox),
            "environment": environment,
        }
