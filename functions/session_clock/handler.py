"""Session clock: a scheduled rule (every 5 minutes) sends due reminders and starts and ends
sessions (:func:`shared.programme.lifecycle.run_clock`).

"Now" is the Scheduled Event's ``time``, so a late, repeated or simulated tick behaves the
same. A tick that could not do everything raises, so Lambda retries it (then dead-letters it);
what it did is not done again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from shared.platform.observability import logger, metrics, tracer
from shared.platform.settings import get_settings
from shared.programme.lifecycle import run_clock
from shared.programme.models import AwareDatetime


class Tick(BaseModel):
    """The part of a Scheduled Event the clock reads."""

    model_config = ConfigDict(extra="ignore")

    time: AwareDatetime


class ClockIncompleteError(RuntimeError):
    """Some due milestones failed (logged): the tick is retried."""


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tick = Tick.model_validate(event)
    report = run_clock(tick.time, settings=get_settings())
    for name, labels in (("Fired", report.fired), ("Skipped", report.skipped)):
        metrics.add_metric(name=f"Milestones{name}", unit=MetricUnit.Count, value=len(labels))
    metrics.add_metric(name="MilestonesFailed", unit=MetricUnit.Count, value=len(report.failed))
    logger.info("Tick", extra={"time": tick.time.isoformat(), **vars(report)})
    if report.failed:
        raise ClockIncompleteError(", ".join(report.failed))
    return {"fired": report.fired, "skipped": report.skipped}
