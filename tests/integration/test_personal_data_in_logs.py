"""No personal data in the logs, nor in the events that do not need it, over a full flow.

Two people register through the API handler (the browser form sample and the JSON sample);
the processor books them (one place: one confirmed, one waitlisted); the clock sends the
reminders; the confirmed one cancels by link and the waitlisted one is promoted; the session
runs and ends; the follow-up's material link is downloaded. Everything the Powertools Logger
writes meanwhile (at DEBUG) is captured, with every event published on our bus.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from functions.api.handler import handler as api
from functions.registration_processor.handler import handler as processor
from functions.self_service.handler import handler as self_service
from functions.waitlist_promoter.handler import handler as promoter
from kbs import sample_files
from shared.platform.observability import logger
from tests.conftest import load_event
from tests.integration import test_downloads
from tests.integration.lifecycle_harness import START, Lifecycle, part, sample_session, sent_emails
from tests.integration.test_privacy import Bus
from tests.integration.test_uploads import created_event, deliver, put
from tests.support import Context, sqs_batch

FORM = load_event("api/post-registration-form.json")
AS_JSON = load_event("api/post-registration-json.json")
CANCEL_FORM = load_event("api/post-cancel-form.json")
PEOPLE = {
    "zoe.akesson@upphandling.example.se": "Zoë Åkesson",
    "jl.dubois@achats.example.fr": ("Jean-Luc Dubois"),
}
ZOE, JEAN_LUC = PEOPLE
SESSION_ID = "kbs-01-ict-hardware"
MATERIAL_LINK = re.compile(r"/materials/([A-Za-z0-9_-]+)\?token=([A-Za-z0-9._%-]+)")


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What the Powertools Logger writes (JSON lines to stdout in Lambda), at DEBUG."""
    handler = logger.registered_handler
    buffer = io.StringIO()
    previous_stream, previous_level = handler.setStream(buffer), logger.log_level
    logger.setLevel("DEBUG")
    yield buffer
    handler.setStream(previous_stream)
    logger.setLevel(previous_level)


def to(address: str, kind: str) -> str:
    """The text of the one email of ``kind`` to ``address`` about the session (not the other)."""
    (message,) = [
        m
        for m in sent_emails(kind)
        if m["To"].addresses[0].addr_spec == address and "Textiles" not in str(m["Subject"])
    ]
    return part(message, "text/plain") or ""


def test_a_full_flow_logs_no_address_or_name_and_publishes_them_only_at_intake(
    aws: None, monkeypatch: pytest.MonkeyPatch, logs: io.StringIO
) -> None:
    # Given the session (one place) and the other session the form names, a slide uploaded.
    life = Lifecycle(monkeypatch)
    life.schedule(sample_session(SESSION_ID, capacity=1))
    textiles = {"title": "Textiles and garments", "start": START + timedelta(days=30)}
    life.schedule(sample_session("kbs-03-textiles", **textiles))
    bus = Bus()
    key = f"sessions/{SESSION_ID}/slides/Risk mapping.pdf"
    body = sample_files.pdf()
    uploaded = put(key, body)
    deliver(created_event(key, body, uploaded["detail"]["object"]["version-id"]))

    # When both register through the API, and the processor books them.
    for event in (FORM, AS_JSON):
        assert api(event, Context())["statusCode"] == 202
    submitted = bus.received("Registration Submitted")
    assert len(submitted) == 2
    assert processor(sqs_batch(*submitted), Context())["batchItemFailures"] == []
    published = bus.received()
    # the clock sends the reminders; the confirmed one cancels; the waitlisted one is promoted;
    life.tick(START - timedelta(hours=24))
    life.tick(START - timedelta(hours=1))
    # one confirmation for both sessions: the ICT session's part comes first
    ict_part = to(ZOE, "confirmation").split("Textiles")[0]
    (cancel_url,) = re.findall(r"https://\S+/registrations/cancel\?token=\S+", ict_part)
    (token,) = parse_qs(urlsplit(cancel_url).query)["token"]
    cancel = CANCEL_FORM | {"body": base64.b64encode(urlencode({"token": token}).encode()).decode()}
    assert self_service(cancel, Context())["statusCode"] == 200
    published += bus.received()
    cancelled = [e for e in published if e["detail-type"] == "Registration Cancelled"]
    assert promoter(sqs_batch(*cancelled), Context())["batchItemFailures"] == []
    # the session runs and ends, and the promoted one downloads the slides from the follow-up.
    life.tick(START)
    life.tick(START + timedelta(minutes=90))
    ((material_id, material_token),) = MATERIAL_LINK.findall(to(JEAN_LUC, "follow-up"))
    assert test_downloads.download(material_id, material_token).status == 302
    assert sum(life.failed.values()) == 0

    # Then the logs tell the whole story without naming anyone.
    lines = logs.getvalue().splitlines()
    messages = {json.loads(line)["message"] for line in lines}
    assert {"Booking outcome", "Registration cancelled", "Email sent"} <= messages
    text = "\n".join(lines).lower()
    for email, name in PEOPLE.items():
        assert email not in text and name.lower() not in text
        assert name.split()[-1].lower() not in text
    # and only "Registration Submitted" (which the processor needs) carries them on the bus.
    published += bus.received()
    assert {e["detail-type"] for e in published} >= {
        "Registration Confirmed",
        "Registration Waitlisted",
        "Registration Cancelled",
    }
    assert "@" not in json.dumps(published)
    assert not any(name in json.dumps(published, ensure_ascii=False) for name in PEOPLE.values())
    assert {s["detail"]["data"]["email"].lower() for s in submitted} == set(PEOPLE)
