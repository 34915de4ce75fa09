"""Scheduled rules: ``rate()``/``cron()`` evaluation, ``kbs tick``, and the real-time clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.wiring import Function, HttpRoute, Schedule
from kbs.cli import main
from kbs.local.clock import Clock, Cron, Rate, ScheduledRule, Scheduler, parse_expression
from kbs.local.runtime import ACCOUNT_ID, Invoker
from tests.e2e import handlers
from tests.e2e.conftest import StartInProcess
from tests.e2e.support import http, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
TICKER = Function(
    name="ticker",
    handler="tests.e2e.handlers.scheduled",
    description="test-only scheduled function",
    triggers=(
        Schedule("EveryFiveMinutes", "rate(5 minutes)"),
        Schedule("WeekdayMornings", "cron(0 9 ? * MON-FRI *)"),
    ),
)
CLOCKFACE = Function(
    name="echo",
    handler="tests.e2e.handlers.echo",
    description="test-only HTTP function, to read timeEpoch",
    triggers=(HttpRoute("POST", "/echo"),),
)


@pytest.mark.parametrize(
    ("expression", "due", "not_due"),
    [
        ("rate(1 minute)", [MONDAY_9, MONDAY_9 + timedelta(minutes=1, seconds=59)], []),
        (
            "rate(5 minutes)",
            [MONDAY_9, MONDAY_9 + timedelta(minutes=5)],
            [MONDAY_9 + timedelta(minutes=3)],
        ),
        ("rate(2 hours)", [datetime(2026, 3, 2, 10, 0, tzinfo=UTC)], [MONDAY_9]),
        ("rate(1 day)", [datetime(2026, 3, 2, 0, 0, tzinfo=UTC)], [MONDAY_9]),
        (
            "cron(0 9 ? * MON-FRI *)",
            [MONDAY_9],
            [MONDAY_9 + timedelta(days=5), MONDAY_9 + timedelta(minutes=1)],
        ),
        (
            "cron(*/15 8-10 * * ? *)",
            [MONDAY_9 + timedelta(minutes=45)],
            [MONDAY_9 + timedelta(minutes=50)],
        ),
        (
            "cron(30 6 1,15 JAN-MAR ? 2026)",
            [datetime(2026, 3, 15, 6, 30, tzinfo=UTC)],
            [datetime(2027, 3, 15, 6, 30, tzinfo=UTC)],
        ),
        (
            "cron(0 12 ? * 1 *)",
            [datetime(2026, 3, 1, 12, 0, tzinfo=UTC)],
            [MONDAY_9.replace(hour=12)],
        ),
        (
            "cron(5/20 * * * ? *)",
            [MONDAY_9 + timedelta(minutes=25)],
            [MONDAY_9 + timedelta(minutes=20)],
        ),
    ],
)
def test_expressions_are_due_when_eventbridge_would_fire_them(
    expression: str, due: list[datetime], not_due: list[datetime]
) -> None:
    parsed = parse_expression(expression)

    assert [parsed.due(at) for at in due] == [True] * len(due)
    assert [parsed.due(at) for at in not_due] == [False] * len(not_due)


def test_times_are_read_in_utc() -> None:
    brussels_ten = datetime.fromisoformat("2026-03-02T10:00:00+01:00")

    assert Cron.parse("cron(0 9 ? * MON *)").due(brussels_ten)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(5 weeks)",
        "cron(0 9 * * *)",
        "cron(0 9 * * MON *)",
        "cron(0 9 ? * ? *)",
        "cron(0 9 L * ? *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(0 24 * * ? *)",
        "every day",
    ],
)
def test_invalid_or_unsupported_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ValueError):
        parse_expression(expression)


def test_a_rate_is_counted_in_minutes() -> None:
    assert Rate.parse("rate(3 hours)") == Rate(180)


@pytest.fixture(scope="module")
def info(in_process: StartInProcess) -> dict[str, Any]:
    return in_process(TICKER, CLOCKFACE, clock=Clock(MONDAY_9 - timedelta(days=1)))


def test_kbs_tick_fires_the_rules_due_then_with_the_scheduled_event_payload(
    info: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    local = ["--local", str(Path(info["outbox"]).parent)]

    code = main(["tick", "--at", "2026-03-02T10:00:00+01:00", *local])

    assert code == 0
    assert "EveryFiveMinutes -> ticker: ok" in capsys.readouterr().out
    events = {
        event["resources"][0].rsplit("/", 1)[-1]: event for event in handlers.received("ticker")
    }
    assert set(events) == {"EveryFiveMinutes", "WeekdayMornings"}
    event = events["WeekdayMornings"]
    assert event == {
        "version": "0",
        "id": event["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": "2026-03-02T09:00:00Z",
        "region": "eu-west-1",
        "resources": [f"arn:aws:events:eu-west-1:{ACCOUNT_ID}:rule/WeekdayMornings"],
        "detail": {},
    }


def test_a_tick_fires_only_what_is_due_and_sets_the_api_clock(
    info: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    at = "2026-03-02T09:03:00Z"

    code = main(["tick", "--at", at, "--local", str(Path(info["outbox"]).parent)])
    reply = http("POST", f"{info['api_url']}/echo", b"{}", {"Content-Type": "application/json"})

    assert code == 0
    assert "no scheduled rule is due" in capsys.readouterr().out
    assert handlers.received("ticker") == []
    assert reply.status == 200
    (request,) = handlers.received("echo")
    assert request["requestContext"]["timeEpoch"] == int(
        datetime.fromisoformat(at).timestamp() * 1000
    )


def test_the_tick_endpoint_refuses_a_bad_time(info: dict[str, Any]) -> None:
    reply = http("POST", f"{info['api_url']}/_local/tick", b'{"at": "soon"}')

    assert reply.status == 400
    assert handlers.received("ticker") == []


class _NearMinute(Clock):
    """Real time shifted so that a minute boundary is a fraction of a second away."""

    def __init__(self, start: datetime) -> None:
        super().__init__()
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


def test_on_real_time_rules_fire_at_each_minute_boundary() -> None:
    weekday_mornings = TICKER.of_kind(Schedule)[1]
    rule = ScheduledRule(TICKER, weekday_mornings, "arn:aws:events:eu-west-1:1:rule/W")
    clock = _NearMinute(MONDAY_9 - timedelta(seconds=0.3))
    scheduler = Scheduler([rule], clock, Invoker((TICKER,), "eu-west-1"), "eu-west-1")

    scheduler.start()
    try:
        wait_for(lambda: handlers.received("ticker"), timeout=5, what="a scheduled invocation")
    finally:
        scheduler.stop()

    (event,) = handlers.received("ticker")
    assert event["time"] == "2026-03-02T09:00:00Z"
    assert event["resources"] == ["arn:aws:events:eu-west-1:1:rule/W"]
