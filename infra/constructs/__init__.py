"""CDK constructs of the Kbs stack, one per concern; ``infra/stack.py`` only composes them."""

from infra.constructs.alarms import DeadLetterAlarms
from infra.constructs.data import Data
from infra.constructs.email import Email
from infra.constructs.event_bus import EventBusWithArchive
from infra.constructs.event_rule_trigger import EventRuleTrigger
from infra.constructs.http_api import PublicHttpApi
from infra.constructs.link_secret import LinkSecret
from infra.constructs.materials import Materials
from infra.constructs.schedule_trigger import ScheduleTrigger
from infra.constructs.service_function import Dependencies, ServiceFunction
from infra.constructs.work_queue import WorkQueueTrigger

__all__ = [
    "Data",
    "DeadLetterAlarms",
    "Dependencies",
    "Email",
    "EventBusWithArchive",
    "EventRuleTrigger",
    "LinkSecret",
    "Materials",
    "PublicHttpApi",
    "ScheduleTrigger",
    "ServiceFunction",
    "WorkQueueTrigger",
]
