"""Importing attendance reports on moto: records, audit, the "Attendance Recorded" event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.attendance import store
from shared.attendance.imports import correct, import_report
from shared.attendance.reports import ReportError
from shared.platform import clients
from shared.platform.event_types import ATTENDANCE_RECORDED, SOURCE_ATTENDANCE
from shared.platform.settings import get_settings
from shared.programme.repository import put_session
from shared.registrations.store import registration_item
from tests.attendance_support import (
    AFTER,
    EXPECTED,
    NO_SHOW,
    PLAIN,
    REGISTRANTS,
    SESSION,
    ZOOM,
    registration,
)
from tests.conftest import TABLE_NAME
from tests.support import BusTap


@pytest.fixture
def tap(aws: None) -> BusTap:
    put_session(TABLE_NAME, SESSION)
    for email in REGISTRANTS:
        clients.table(TABLE_NAME).put_item(Item=registration_item(registration(email)))
    return BusTap("attendance-tap", {"source": [SOURCE_ATTENDANCE]})


def run(data: bytes, **kwargs: Any) -> Any:
    return import_report(
        get_settings(), SESSION.session_id, data, actor="local", now=AFTER, **kwargs
    )


def everything() -> list[dict[str, Any]]:
    return clients.table(TABLE_NAME).scan()["Items"]  # tests only: the whole table


def attendees(tap: BusTap) -> list[dict[str, Any]]:
    events = tap.received(ATTENDANCE_RECORDED)
    return [a for e in events for a in e["detail"]["data"]["attendees"]]


def test_an_import_records_matched_attendees_and_publishes_them(tap: BusTap) -> None:
    result = run(ZOOM.read_bytes())

    records = store.session_attendance(TABLE_NAME, SESSION.session_id)
    assert {r.email: r.minutes for r in records} == EXPECTED
    assert {r.source for r in records} == {"zoom"}
    assert {r.import_id for r in records} == {result.import_id}
    person = store.person_attendance(TABLE_NAME, "Odon.Szoke@example.hu")
    assert [(p.session_id, p.minutes) for p in person] == [(SESSION.session_id, 88)]
    (event,) = tap.received(ATTENDANCE_RECORDED)
    assert event["source"] == SOURCE_ATTENDANCE
    data = event["detail"]["data"]
    assert data["session_id"] == SESSION.session_id
    assert data["import_id"] == result.import_id
    assert sorted(data["attendees"], key=lambda a: a["email"]) == sorted(
        ({"email": e, "minutes": m, "qualifies": m >= 68} for e, m in EXPECTED.items()),
        key=lambda a: a["email"],
    )
    assert event["detail"]["metadata"]["idempotency_key"].startswith("attendance#kbs-01")
    (audit,) = store.import_audits(TABLE_NAME, SESSION.session_id)
    assert audit["by"] == "local" and audit["kind"] == "import"
    assert audit["digest"] == result.digest and len(audit["digest"]) == 64
    assert audit["counts"]["matched"] == 4 and audit["counts"]["no_shows"] == 1
    assert audit["published_at"] and "pending_attendees" not in audit
    item = clients.table(TABLE_NAME).get_item(
        Key={"PK": f"SESSION#{SESSION.session_id}", "SK": "ATTENDANCE#odon.szoke@example.hu"}
    )["Item"]
    assert item["GSI1PK"] == "REGISTRANT#odon.szoke@example.hu"
    assert item["GSI1SK"] == f"ATTENDANCE#{SESSION.session_id}"
    years = (int(item["expiration"]) - SESSION.end.timestamp()) / (365.25 * 86400)
    assert years == pytest.approx(6)
    assert result.outcome.no_shows == [NO_SHOW]


def test_reimporting_the_same_file_changes_nothing_and_publishes_nothing(tap: BusTap) -> None:
    run(ZOOM.read_bytes())
    tap.received()
    before = everything()

    result = run(ZOOM.read_bytes())

    assert result.status == "unchanged"
    assert everything() == before
    assert tap.received() == []


def test_a_corrected_file_replaces_the_import_with_an_audit(tap: BusTap) -> None:
    run(ZOOM.read_bytes())
    tap.received()
    corrected = (
        b"email,minutes\nlucja.wroblewska@example.pl,90\nodon.szoke@example.hu,40\n"
        b"stefan.ionescu@example.ro,30\n"
    )

    result = run(corrected)

    records = {r.email: r for r in store.session_attendance(TABLE_NAME, SESSION.session_id)}
    assert {e: r.minutes for e, r in records.items()} == {
        "lucja.wroblewska@example.pl": 90,
        "odon.szoke@example.hu": 40,
        "stefan.ionescu@example.ro": 30,
    }
    assert records["lucja.wroblewska@example.pl"].import_id == result.import_id  # new source
    assert sorted(attendees(tap), key=lambda a: a["email"]) == [
        {"email": "begona.munoz@example.es", "minutes": 0, "qualifies": False},  # removed
        {"email": "odon.szoke@example.hu", "minutes": 40, "qualifies": False},
    ]
    audits = store.import_audits(TABLE_NAME, SESSION.session_id)
    assert [a["source"] for a in audits] == ["zoom", "csv"]
    assert audits[1]["counts"]["removed"] == 1 and audits[1]["counts"]["changed"] == 3


def test_a_correction_is_audited_published_and_survives_a_corrected_file(tap: BusTap) -> None:
    run(ZOOM.read_bytes())
    tap.received()
    settings = get_settings()

    lifted = correct(
        settings,
        SESSION.session_id,
        "Stefan.Ionescu@example.ro",
        75,
        "joined by phone",
        actor="arn:aws:iam::123456789012:user/organiser",
        now=AFTER,
    )
    again = correct(
        settings,
        SESSION.session_id,
        "stefan.ionescu@example.ro",
        75,
        "joined by phone",
        actor="local",
        now=AFTER,
    )
    corrected = PLAIN.read_text().replace("stefan.ionescu@example.ro,30\n", "").encode()
    result = run(corrected)

    assert lifted == {"email": "stefan.ionescu@example.ro", "minutes": 75, "qualifies": True}
    assert again is None
    stefan = store.get_attendance(TABLE_NAME, SESSION.session_id, "stefan.ionescu@example.ro")
    assert stefan is not None and (stefan.minutes, stefan.source) == (75, "manual")
    assert stefan.reason == "joined by phone"
    assert result.kept_manual == ["stefan.ionescu@example.ro"]
    events = tap.received(ATTENDANCE_RECORDED)
    assert events[0]["detail"]["data"]["attendees"] == [lifted]
    audit = store.import_audits(TABLE_NAME, SESSION.session_id)[1]
    assert (audit["kind"], audit["by"]) == (
        "correction",
        "arn:aws:iam::123456789012:user/organiser",
    )
    assert (audit["previous_minutes"], audit["minutes"]) == (30, 75)


def test_an_interrupted_import_is_completed_by_importing_the_file_again(
    tap: BusTap, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.attendance import imports
    from shared.platform.events import PublishError

    def fail(*args: object) -> None:
        raise PublishError("EventBridge down")

    with monkeypatch.context() as patch:
        patch.setattr(imports, "publish", fail)
        with pytest.raises(PublishError):
            run(ZOOM.read_bytes())
    assert tap.received() == []

    result = run(ZOOM.read_bytes())

    assert result.status == "completed"
    assert {a["email"] for a in attendees(tap)} == set(EXPECTED)
    assert run(ZOOM.read_bytes()).status == "unchanged"
    assert len(store.import_audits(TABLE_NAME, SESSION.session_id)) == 1


@pytest.mark.parametrize(
    ("data", "session_id", "now", "message"),
    [
        (ZOOM.read_bytes(), "kbs-99-nothing", AFTER, "no session kbs-99-nothing"),
        (ZOOM.read_bytes(), SESSION.session_id, SESSION.end - timedelta(minutes=5), "not ended"),
        (b"", SESSION.session_id, AFTER, "empty"),
        (b"name;when\nAna;now\n", SESSION.session_id, AFTER, "unknown report format"),
        (
            ZOOM.read_text().replace("12/01/2026 10:05", "12/02/2026 10:05").encode(),
            SESSION.session_id,
            AFTER,
            "not on the session's day",
        ),
        (b"email,minutes\n,90\n", SESSION.session_id, AFTER, "no row of the file has an email"),
        (b"x" * (50 * 1024 * 1024), SESSION.session_id, AFTER, "over 10,485,760 bytes"),
    ],
    ids=["unknown-session", "not-ended", "empty", "unknown", "other-day", "no-email", "50MB"],
)
def test_bad_input_is_refused_and_nothing_is_written(
    tap: BusTap, data: bytes, session_id: str, now: Any, message: str
) -> None:
    before = everything()

    with pytest.raises(ReportError, match=message):
        import_report(get_settings(), session_id, data, actor="local", now=now)

    assert everything() == before
    assert tap.received() == []


def test_a_dry_run_writes_nothing(tap: BusTap) -> None:
    before = everything()

    result = run(ZOOM.read_bytes(), dry_run=True)

    assert result.status == "dry run" and len(result.outcome.matched) == 4
    assert everything() == before
    assert tap.received() == []


def test_thresholds_series_default_and_session_override(tap: BusTap) -> None:
    assert store.threshold_minutes(TABLE_NAME, SESSION) == 68  # 75% of 90, rounded up
    store.set_threshold(TABLE_NAME, 50, None, AFTER)
    assert store.threshold_minutes(TABLE_NAME, SESSION) == 45
    store.set_threshold(TABLE_NAME, 90, SESSION.session_id, AFTER)
    assert store.threshold_minutes(TABLE_NAME, SESSION) == 81
    assert store.threshold_percent(TABLE_NAME, SESSION.session_id) == (90, "session")

    run(ZOOM.read_bytes())

    qualifying = {a["email"] for a in attendees(tap) if a["qualifies"]}
    assert qualifying == {"lucja.wroblewska@example.pl", "odon.szoke@example.hu"}
    with pytest.raises(ValueError, match="from 1 to 100"):
        store.set_threshold(TABLE_NAME, 0, None, AFTER)
