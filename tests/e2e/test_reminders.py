"""End to end on ``kbs serve``: ticking the clock through a session's day fills the outbox.

kbs tick --at T-24h, T-1h, start, end --> session_clock --> email queue | "Session Started/
Ended" --> bus --> rule --> queue --> session_events --> email queue --> email_sender --> SES
(moto) --> DATA_DIR/outbox/*.eml
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from kbs.local.outbox import POLL_SECONDS
from tests.conftest import EVENTS
from tests.e2e.support import Served, http, kbs, read_eml, register, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PEOPLE = ("zoe.akesson@region.example.se", "jose.nunez@ayto.example.es")


def outbox_kinds(stack: Served) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for path in (stack.data_dir / "outbox").glob("*.eml"):
        kinds[str(read_eml(path)["X-KBS-Kind"])] += 1
    return kinds


def tick(stack: Served, at: datetime) -> str:
    result = kbs("tick", "--at", at.isoformat(), "--local", str(stack.data_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_ticking_through_a_session_sends_reminders_live_notices_and_follow_ups(
    stack: Served,
) -> None:
    imported = kbs(
        "sessions", "import", str(EVENTS / "programme.sample.json"), "--local", str(stack.data_dir)
    )
    assert imported.returncode == 0, imported.stderr
    first = http("GET", f"{stack.api_url}/sessions").json()[0]
    for n, email in enumerate(PEOPLE):
        register(stack.api_url, email, [first["session_id"]], name=f"Registrant {n}", country="SE")
    wait_for(lambda: outbox_kinds(stack)["confirmation"] == 2, timeout=30, what="confirmations")
    start = datetime.fromisoformat(first["start"])
    end = start + timedelta(minutes=first["duration_minutes"])
    day = [
        ("reminder-24h", start - timedelta(hours=24)),
        ("reminder-1h", start - timedelta(hours=1)),
        ("live", start),
        ("follow-up", end),
    ]

    for kind, at in day:
        assert "SessionClock -> session_clock: ok" in tick(stack, at)
        wait_for(lambda k=kind: outbox_kinds(stack)[k] == 2, timeout=30, what=f"{kind} emails")
    tick(stack, start - timedelta(hours=24))  # a late, repeated tick
    time.sleep(4 * POLL_SECONDS)  # room for a duplicate, if there were one

    assert outbox_kinds(stack) == {
        "confirmation": 2,
        "reminder-24h": 2,
        "reminder-1h": 2,
        "live": 2,
        "follow-up": 2,
    }
    reminders = [
        read_eml(path)
        for path in sorted((stack.data_dir / "outbox").glob("*.eml"))
        if read_eml(path)["X-KBS-Kind"] == "reminder-24h"
    ]
    assert {m["To"].addresses[0].addr_spec for m in reminders} == set(PEOPLE)
    for message in reminders:
        invites = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert len(invites) == 1
        assert first["title"] in str(message["Subject"])
    listed = kbs("sessions", "list", "--local", str(stack.data_dir))
    assert f"{first['session_id']}" in listed.stdout and "ended" in listed.stdout


def test_a_tick_between_grid_times_catches_up_and_the_session_goes_live(stack: Served) -> None:
    imported = kbs(
        "sessions", "import", str(EVENTS / "programme.sample.json"), "--local", str(stack.data_dir)
    )
    assert imported.returncode == 0, imported.stderr
    first = http("GET", f"{stack.api_url}/sessions").json()[0]
    register(stack.api_url, PEOPLE[0], [first["session_id"]], country="SE")
    wait_for(lambda: outbox_kinds(stack)["confirmation"] == 1, timeout=30, what="confirmation")
    start = datetime.fromisoformat(first["start"]).astimezone(UTC)  # on the 5-minute grid

    tick(stack, start - timedelta(minutes=55))  # e.g. 08:05 for a 09:00 start
    caught_up = tick(stack, start + timedelta(minutes=2))  # 09:02: not on the grid

    at = f"{start:%Y-%m-%dT%H:%M:%SZ}"
    assert f"{at}  SessionClock -> session_clock: ok" in caught_up
    assert f"fired (1): {first['session_id']} start" in caught_up  # what the function did
    assert caught_up.count("SessionClock") == 1  # once, at its latest due moment
    wait_for(lambda: outbox_kinds(stack)["live"] == 1, timeout=30, what='the "live" email')
    listed = kbs("sessions", "list", "--local", str(stack.data_dir))
    (row,) = [line for line in listed.stdout.splitlines() if line.startswith(first["session_id"])]
    assert row.split()[-1] == "live"
