"""Scheduled rules: ``rate()``/``cron()`` evaluation, ``kbs tick``, and the real-time clock."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.wiring import EventRule, Function, HttpRoute, Schedule
from kbs.cli import main
from kbs.local.clock import Clock, Cron, Rate, ScheduledRule, Scheduler, parse_expression
from kbs.local.runtime import ACCOUNT_ID, Invoker
from kbs.local.server import Names, moto_client
from tests.e2e import handlers
from tests.e2e.conftest import StartInProcess
from tests.e2e.support import http, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
JSON = {"Content-Type": "application/json"}

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
LISTENER = Function(
    name="batch",
    handler="tests.e2e.handlers.batch",
    description="test-only consumer of our events and of S3 uploads, to read their time",
    triggers=(
        EventRule("ClockTest", {"source": ["test.clock"]}),
        EventRule(
            "ClockUploads",
            {"source": ["aws.s3"], "detail-type": ["Object Created"]},
            bus="default",
        ),
    ),
)
# The in-process stack's clock: each test puts it where its story starts.
CLOCK = Clock(MONDAY_9 - timedelta(days=1))


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


TUESDAY_9 = MONDAY_9 + timedelta(days=1)


@pytest.mark.parametrize(
    ("expression", "after", "until", "latest"),
    [
        # between grid times: the 09:00 run, not nothing (08:05 then 09:02)
        ("rate(5 minutes)", "2026-03-02T08:05:00Z", "2026-03-02T09:02:00Z", "2026-03-02T09:00:00Z"),
        ("rate(5 minutes)", "2026-03-02T09:00:00Z", "2026-03-02T09:04:59Z", None),
        ("rate(5 minutes)", "2026-03-02T09:02:00Z", "2026-03-02T08:05:00Z", None),  # back
        ("rate(1 day)", "2026-03-02T08:00:00Z", "2026-03-05T07:00:00Z", "2026-03-05T00:00:00Z"),
        # over a weekend: Friday's run is the latest
        (
            "cron(0 9 ? * MON-FRI *)",
            "2026-02-26T12:00:00Z",
            "2026-03-01T23:59:00Z",
            "2026-02-27T09:00:00Z",
        ),
        ("cron(0 9 ? * MON-FRI *)", "2026-03-02T09:00:00Z", "2026-03-03T08:59:59Z", None),
        (
            "cron(0 0 29 2 ? *)",
            "2026-03-01T00:00:00Z",
            "2028-12-31T00:00:00Z",
            "2028-02-29T00:00:00Z",
        ),
        (
            "cron(*/15 8-10 * * ? *)",
            "2026-03-02T10:46:00Z",
            "2026-03-03T08:14:00Z",
            "2026-03-03T08:00:00Z",
        ),
    ],
)
def test_the_latest_due_moment_in_an_interval(
    expression: str, after: str, until: str, latest: str | None
) -> None:
    moment = parse_expression(expression).latest(
        datetime.fromisoformat(after), datetime.fromisoformat(until)
    )

    assert moment == (datetime.fromisoformat(latest) if latest else None)


@pytest.mark.parametrize(
    "expression",
    ["rate(7 minutes)", "rate(2 hours)", "cron(5/20 6-18 ? * TUE,THU *)", "cron(0 12 1,15 * ? *)"],
)
def test_the_latest_due_moment_is_the_last_minute_due_walking_minute_by_minute(
    expression: str,
) -> None:
    parsed = parse_expression(expression)
    draw = random.Random(expression)
    for _ in range(25):
        after = MONDAY_9 + timedelta(minutes=draw.randrange(-5000, 5000), seconds=draw.random())
        until = after + timedelta(minutes=draw.randrange(0, 4000), seconds=draw.random())
        minute = until.replace(second=0, microsecond=0)
        walked = None
        while minute > after:
            if parsed.due(minute):
                walked = minute
                break
            minute -= timedelta(minutes=1)

        assert parsed.latest(after, until) == walked, (after, until)


@pytest.fixture(scope="module")
def info(in_process: StartInProcess) -> dict[str, Any]:
    return in_process(TICKER, CLOCKFACE, LISTENER, clock=CLOCK)


def data_dir(info: dict[str, Any]) -> str:
    return str(Path(info["outbox"]).parent)


def test_kbs_tick_fires_the_rules_due_then_with_the_scheduled_event_payload(
    info: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    local = ["--local", data_dir(info)]
    CLOCK.set(MONDAY_9 - timedelta(days=1))

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
    CLOCK.set(MONDAY_9)

    code = main(["tick", "--at", at, "--local", data_dir(info)])
    reply = http("POST", f"{info['api_url']}/echo", b"{}", {"Content-Type": "application/json"})

    assert code == 0
    assert "no scheduled rule was due by 2026-03-02T09:03:00Z (since 2026-03-02T09:00:00Z)" in (
        capsys.readouterr().out
    )
    assert handlers.received("ticker") == []
    assert reply.status == 200
    (request,) = handlers.received("echo")
    assert request["requestContext"]["timeEpoch"] == int(
        datetime.fromisoformat(at).timestamp() * 1000
    )


@pytest.mark.parametrize(
    "at", ["soon", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1999-12-31T23:59:59Z"]
)
def test_the_tick_endpoint_refuses_a_bad_time(info: dict[str, Any], at: str) -> None:
    reply = http("POST", f"{info['api_url']}/_local/tick", json.dumps({"at": at}).encode(), JSON)

    assert reply.status == 400
    assert handlers.received("ticker") == []
    moved = http("POST", f"{info['api_url']}/_local/tick", b'{"at": "2026-03-02T09:00:00Z"}', JSON)
    assert moved.status == 200  # the clock still works after a refusal


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://evil.example"}, 403),
        ({**JSON, "Origin": "null"}, 403),
        ({**JSON, "Sec-Fetch-Site": "cross-site"}, 403),
        ({"Content-Type": "text/plain"}, 415),  # what a page may send without a preflight
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ],
)
def test_a_web_page_cannot_move_the_clock(
    info: dict[str, Any], headers: dict[str, str], status: int
) -> None:
    reply = http(
        "POST", f"{info['api_url']}/_local/tick", b'{"at": "2027-05-01T00:00:00Z"}', headers
    )

    assert reply.status == status
    assert handlers.received("ticker") == []


def test_kbs_tick_refuses_a_year_out_of_range_before_touching_the_stack(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tick", "--at", "0001-01-01", "--local", "/nonexistent"]) != 0

    assert "outside the years 2000-2099" in capsys.readouterr().err


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


def tick_output(capsys: pytest.CaptureFixture[str], info: dict[str, Any], *args: str) -> str:
    code = main(["tick", *args, "--local", data_dir(info)])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def received_runs() -> list[tuple[str, str]]:
    return sorted(
        (event["resources"][0].rsplit("/", 1)[-1], event["time"])
        for event in handlers.received("ticker")
    )


def test_a_tick_between_grid_times_fires_each_rule_once_at_its_latest_due_moment(
    info: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    CLOCK.set(TUESDAY_9)
    tick_output(capsys, info, "--at", "2026-03-03T08:05:00Z")  # Tuesday, T-1h of nothing
    handlers.RECEIVED.clear()

    out = tick_output(capsys, info, "--at", "2026-03-03T09:02:00Z")
    runs = received_runs()
    handlers.RECEIVED.clear()
    again = tick_output(capsys, info, "--at", "2026-03-03T09:02:00Z")

    assert runs == [
        ("EveryFiveMinutes", "2026-03-03T09:00:00Z"),
        ("WeekdayMornings", "2026-03-03T09:00:00Z"),
    ]
    assert "2026-03-03T09:00:00Z  EveryFiveMinutes -> ticker: ok" in out
    assert "2026-03-03T09:00:00Z  WeekdayMornings -> ticker: ok" in out
    assert "The local clock is now simulated at 2026-03-03T09:02:00Z." in out
    assert received_runs() == []  # the same time again: nothing was due since
    assert "no scheduled rule was due by 2026-03-03T09:02:00Z (since 2026-03-03T09:02:00Z)" in (
        again
    )


def test_a_tick_back_in_time_restarts_the_clock_there_and_real_time_returns(
    info: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    CLOCK.set(TUESDAY_9)

    off_grid = tick_output(capsys, info, "--at", "2026-03-02T09:02:00Z")
    runs_off_grid = received_runs()
    on_grid = tick_output(capsys, info, "--at", "2026-03-02T09:00:30Z")
    runs_on_grid = received_runs()
    simulated = json.loads((Path(data_dir(info)) / "local.json").read_text())["clock"]
    real = tick_output(capsys, info, "--real")
    after_real = json.loads((Path(data_dir(info)) / "local.json").read_text())["clock"]
    CLOCK.set(TUESDAY_9)

    assert "Back in time from 2026-03-03T09:00:00Z" in off_grid
    assert runs_off_grid == []  # nothing is due in the minute 09:02
    assert "Back in time from 2026-03-02T09:02:00Z" in on_grid
    assert runs_on_grid == [
        ("EveryFiveMinutes", "2026-03-02T09:00:00Z"),
        ("WeekdayMornings", "2026-03-02T09:00:00Z"),
    ]
    assert simulated == "2026-03-02T09:00:30Z"  # what the other commands read
    assert "back on real time" in real
    assert after_real == "real"


def test_a_tick_prints_what_each_function_did(
    info: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from kbs.commands.local import describe_result

    lines = describe_result({"fired": ["s1 live", "s2 live"], "skipped": [], "batch": 3})

    assert lines == ["fired (2): s1 live, s2 live", "skipped (0): none", "batch: 3"]
    assert describe_result(None) == []


def test_events_made_on_a_simulated_clock_carry_its_time(info: dict[str, Any]) -> None:
    at = datetime(2026, 3, 4, 7, 30, tzinfo=UTC)
    CLOCK.set(at)
    events = moto_client("events", info["aws_endpoint_url"], info["region"])
    s3 = moto_client("s3", info["aws_endpoint_url"], info["region"])
    given = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    events.put_events(
        Entries=[
            {
                "Source": "test.clock",
                "DetailType": "Unstamped",
                "Detail": "{}",
                "EventBusName": info["event_bus"],
            },
            {
                "Source": "test.clock",
                "DetailType": "Stamped",
                "Detail": "{}",
                "EventBusName": info["event_bus"],
                "Time": given,
            },
        ]
    )
    s3.put_object(Bucket=Names().bucket, Key="sessions/s1/slides/deck.pdf", Body=b"%PDF-1.4")

    def times() -> dict[str, str]:
        found = {}
        for event in handlers.received("batch"):
            for record in event["Records"]:
                body = json.loads(record["body"])
                found[body["detail-type"]] = body["time"]
        return found if len(found) == 3 else {}

    assert wait_for(times, what="three events") == {
        "Unstamped": "2026-03-04T07:30:00Z",  # EventBridge's clock: the simulated one
        "Stamped": "2025-01-01T12:00:00Z",  # the producer's own time is kept
        "Object Created": "2026-03-04T07:30:00Z",  # S3's clock: the simulated one
    }
