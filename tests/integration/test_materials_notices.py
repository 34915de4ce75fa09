"""Materials reach registrants: listed in the reminders and the follow-up when uploaded before,
announced once per batch of uploads after. The material processor, the session clock, the
session events and the email sender run on moto as Lambda runs them
(:mod:`tests.integration.lifecycle_harness`); the links are followed through ``downloads``."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from kbs import sample_files
from shared.materials import announcements, library
from shared.platform import keys
from shared.platform.clients import table
from shared.platform.settings import get_settings
from shared.programme.models import Session
from shared.registrations.models import RegistrationStatus
from tests.conftest import TABLE_NAME
from tests.integration import test_downloads
from tests.integration.lifecycle_harness import (
    START,
    Lifecycle,
    part,
    recipients,
    registration,
    sample_session,
    sent_emails,
)
from tests.integration.test_uploads import created_event, deliver, put

END = START + timedelta(minutes=90)
LINK = re.compile(r"https?://\S+/materials/([a-z2-7]{26})\?token=([\w.-]+)")


@pytest.fixture
def life(aws: None, monkeypatch: pytest.MonkeyPatch) -> Lifecycle:
    return Lifecycle(monkeypatch)


@pytest.fixture
def session(life: Lifecycle) -> Session:
    """The session, two confirmed registrants, one who cancelled, one of another session."""
    session = life.schedule(sample_session())
    life.schedule(sample_session("kbs-02-solar-pv", start=START + timedelta(days=14)))
    life.register(
        registration(session.session_id, 0),
        registration(session.session_id, 1),
        registration(session.session_id, 2, status=RegistrationStatus.CANCELLED),
        registration("kbs-02-solar-pv", 3),
    )
    return session


def upload(session: Session, kind: str, name: str, body: bytes, minutes: float) -> None:
    """An organiser's upload ``minutes`` after the session's start (negative: before)."""
    key = f"sessions/{session.session_id}/{kind}/{name}"
    event = put(key, body)
    at = START + timedelta(minutes=minutes)
    deliver(created_event(key, body, event["detail"]["object"]["version-id"], at=at))


def links(kind: str) -> dict[str, list[tuple[str, str]]]:
    """The (material id, token) links each recipient's emails of ``kind`` carry (text part)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for message in sent_emails(kind):
        text = part(message, "text/plain") or ""
        found.setdefault(message["To"].addresses[0].addr_spec, []).extend(LINK.findall(text))
    return found


def downloads(material_id: str, token: str) -> int:
    return test_downloads.download(material_id, token).status


def test_materials_uploaded_before_the_session_are_in_the_reminders_and_the_follow_up(
    life: Lifecycle, session: Session
) -> None:
    upload(session, "slides", "Risk mapping.pdf", sample_files.pdf(), minutes=-3 * 24 * 60)
    upload(session, "guidance", "Buyer's checklist.docx", sample_files.docx(), minutes=-47 * 60)
    ids = {r.material_id for r in library.session_materials(TABLE_NAME, session.session_id)}

    life.tick(START - timedelta(hours=24))
    life.tick(START)
    life.tick(END)

    for kind in ("reminder-24h", "follow-up"):
        sent = links(kind)
        assert set(sent) == {registration(session.session_id, n).email for n in (0, 1)}, kind
        for listed in sent.values():
            assert {material_id for material_id, _ in listed} == ids
            assert all(downloads(material_id, token) == 302 for material_id, token in listed)
        mine, theirs = sent.values()
        assert {t for _, t in mine}.isdisjoint({t for _, t in theirs}), "links are personal"
    follow_up = part(sent_emails("follow-up")[0], "text/plain") or ""
    assert "Slides: Risk mapping (PDF" in follow_up
    assert "Guidance note: Buyer's checklist (Word" in follow_up
    assert sent_emails("materials") == [], "announced in the reminder and follow-up already"


def test_uploads_after_the_follow_up_make_one_email_per_batch(
    life: Lifecycle, session: Session
) -> None:
    life.tick(END)  # the session ends; the follow-up (no materials yet) goes out
    assert len(sent_emails("follow-up")) == 2

    # Given three files uploaded within two minutes, one event delivered twice
    upload(session, "slides", "Slides.pdf", sample_files.pdf(), minutes=120)
    upload(session, "guidance", "Notes.odt", sample_files.odt(), minutes=121)
    upload(session, "slides", "Annex.pptx", sample_files.pptx(), minutes=122)
    (first,) = [
        r for r in library.session_materials(TABLE_NAME, session.session_id) if r.title == "Slides"
    ]

    # When the clock ticks before the batch is due, at its time, and again
    life.tick(START + timedelta(minutes=123))
    assert sent_emails("materials") == []
    life.tick(START + timedelta(minutes=125))
    life.tick(START + timedelta(minutes=130))

    # Then each confirmed registrant got one email listing the three files, links working
    assert recipients("materials") == {registration(session.session_id, n).email: 1 for n in (0, 1)}
    for listed in links("materials").values():
        assert len(listed) == 3
        assert all(downloads(material_id, token) == 302 for material_id, token in listed)
    assert _pending(session) is None

    # And a later upload (a new version of a file) is a new batch, announced once more
    upload(session, "slides", "Slides.pdf", sample_files.pdf("v2"), minutes=24 * 60)
    life.tick(START + timedelta(minutes=24 * 60 + 5))
    life.tick(START + timedelta(minutes=24 * 60 + 10))
    assert recipients("materials") == {registration(session.session_id, n).email: 2 for n in (0, 1)}
    latest = links("materials")[registration(session.session_id, 0).email][-3:]
    assert first.material_id not in {material_id for material_id, _ in latest}, "v2 replaced v1"


def test_an_upload_arriving_while_a_batch_is_announced_makes_a_new_batch(
    life: Lifecycle, session: Session
) -> None:
    life.tick(END)
    upload(session, "slides", "Slides.pdf", sample_files.pdf(), minutes=120)
    (due,) = announcements.due_announcements(TABLE_NAME, START + timedelta(minutes=125))
    upload(session, "guidance", "Notes.pdf", sample_files.pdf(), minutes=124)  # read before it

    settings = get_settings()
    assert announcements.announce(due, now=START + timedelta(minutes=125), settings=settings)
    life.settle()

    pending = _pending(session)
    assert pending is not None and int(pending["uploads"]) == 1
    life.tick(START + timedelta(minutes=130))
    assert recipients("materials") == {registration(session.session_id, n).email: 2 for n in (0, 1)}
    assert _pending(session) is None


def test_an_announcement_for_a_session_not_ended_is_dropped(
    life: Lifecycle, session: Session
) -> None:
    table(TABLE_NAME).update_item(
        Key={"PK": keys.session_pk(session.session_id), "SK": keys.MATERIALS_DUE},
        **{
            k: v
            for k, v in announcements.announce_later(session.session_id, START).items()
            if k != "Key"
        },
    )

    life.tick(START + timedelta(minutes=10))

    assert sent_emails("materials") == []
    assert _pending(session) is None


def _pending(session: Session) -> dict[str, object] | None:
    key = {"PK": keys.session_pk(session.session_id), "SK": keys.MATERIALS_DUE}
    return table(TABLE_NAME).get_item(Key=key, ConsistentRead=True).get("Item")


def test_a_batch_withdrawn_before_it_is_due_is_not_announced(
    life: Lifecycle, session: Session
) -> None:
    life.tick(END)
    upload(session, "slides", "Wrong file.pdf", sample_files.pdf(), minutes=120)
    (record,) = library.session_materials(TABLE_NAME, session.session_id)
    library.withdraw(TABLE_NAME, record.material_id, START + timedelta(minutes=121))

    life.tick(START + timedelta(minutes=125))

    assert sent_emails("materials") == []
    assert _pending(session) is None
