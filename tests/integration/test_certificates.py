"""Certificates on moto: an import issues each qualifying attendee one certificate (PDF in the
bucket, essential email), a replay issues nothing, a correction under the threshold revokes,
a reissue gets a new number, an erasure leaves a withdrawn tombstone; verification and the
record follow."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest

from infra import wiring
from shared.attendance.imports import correct, import_report
from shared.certificates import issuing, record, store, verification
from shared.platform import clients
from shared.platform.event_types import ATTENDANCE_RECORDED, SOURCE_ATTENDANCE
from shared.platform.settings import get_settings
from shared.privacy import rights
from shared.programme.repository import put_session
from shared.registrations.store import registration_item
from tests.attendance_support import AFTER, EXPECTED, NO_SHOW, REGISTRANTS, SESSION, ZOOM
from tests.attendance_support import registration as sample_registration
from tests.conftest import BUCKET_NAME, TABLE_NAME
from tests.support import BusTap, Context, handler_of, sent_emails, sqs_batch

NAME = "Łucja Wróblewska-Őry Șerban Muñoz Öz"
QUALIFYING = {e for e, m in EXPECTED.items() if m >= 68}


@pytest.fixture
def tap(aws: None) -> BusTap:
    put_session(TABLE_NAME, SESSION)
    for email in REGISTRANTS:
        person = sample_registration(email).model_copy(update={"full_name": NAME})
        clients.table(TABLE_NAME).put_item(Item=registration_item(person))
    return BusTap("certificates-tap", {"source": [SOURCE_ATTENDANCE]})


def deliver(events: list[dict[str, Any]]) -> dict[str, Any]:
    handler = handler_of(wiring.function("certificates"))
    result: dict[str, Any] = handler(sqs_batch(*events), Context())
    assert result == {"batchItemFailures": []}
    return result


def certificate_emails() -> list[Any]:
    return [m for m in sent_emails() if m["X-KBS-Kind"] == "certificate"]


def pdf_text(number: str) -> str:
    from pypdf import PdfReader

    body = clients.client("s3").get_object(Bucket=BUCKET_NAME, Key=store.pdf_key(number))["Body"]
    pages = PdfReader(io.BytesIO(body.read())).pages
    return " ".join(" ".join(p.extract_text() for p in pages).split())  # lines wrap


def imported(tap: BusTap) -> list[dict[str, Any]]:
    import_report(get_settings(), SESSION.session_id, ZOOM.read_bytes(), actor="t", now=AFTER)
    events = tap.received(ATTENDANCE_RECORDED)
    deliver(events)
    return events


def test_an_import_issues_one_certificate_to_each_qualifying_attendee(tap: BusTap) -> None:
    events = imported(tap)

    found = store.session_certificates(TABLE_NAME, SESSION.session_id)
    assert {c.email for c in found} == QUALIFYING
    assert {c.status for c in found} == {store.VALID}
    emails = certificate_emails()
    assert sorted(m["To"].addresses[0].addr_spec for m in emails) == sorted(QUALIFYING)
    cert = next(c for c in found if c.email == "odon.szoke@example.hu")
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", cert.number)
    text = pdf_text(cert.number)
    assert NAME in text and SESSION.title in text and "1 December 2026" in text
    assert "Minutes attended: 88" in text and "CPD hours: 1.25" in text
    assert cert.number in text
    body = emails[0].get_body(preferencelist=("plain",)).get_content()
    assert "/certificates/" in body and "download?token=" in body and "/record?token=" in body

    deliver(events)  # replayed: nothing more
    assert len(certificate_emails()) == len(QUALIFYING)
    assert len(store.session_certificates(TABLE_NAME, SESSION.session_id)) == len(QUALIFYING)


def test_a_correction_under_the_threshold_revokes_and_one_over_it_issues(tap: BusTap) -> None:
    imported(tap)
    correct(
        get_settings(),
        SESSION.session_id,
        "odon.szoke@example.hu",
        minutes=20,
        reason="left early",
        actor="t",
        now=AFTER + timedelta(hours=1),
    )
    deliver(tap.received(ATTENDANCE_RECORDED))
    (old,) = [
        c
        for c in store.session_certificates(TABLE_NAME, SESSION.session_id)
        if c.email == "odon.szoke@example.hu"
    ]
    assert old.status == store.REVOKED and old.reason == store.ATTENDANCE_CORRECTED
    assert verification.public_view(old)["revoked"] == {
        "reason": "attendance corrected",
        "replaced_by": None,
    }
    correct(
        get_settings(),
        SESSION.session_id,
        NO_SHOW,
        minutes=85,
        reason="phoned in",
        actor="t",
        now=AFTER + timedelta(hours=2),
    )
    deliver(tap.received(ATTENDANCE_RECORDED))
    assert any(
        c.email == NO_SHOW and c.status == store.VALID
        for c in store.session_certificates(TABLE_NAME, SESSION.session_id)
    )


def test_reissue_gives_a_new_number_and_the_old_points_to_it(tap: BusTap) -> None:
    imported(tap)
    (cert,) = [
        c
        for c in store.session_certificates(TABLE_NAME, SESSION.session_id)
        if c.email == "begona.munoz@example.es"
    ]
    new = issuing.reissue(
        cert.number.lower(), "Begoña Muñoz", settings=get_settings(), now=AFTER + timedelta(days=1)
    )
    old = verification.public_view(verification.find(TABLE_NAME, cert.number))
    assert old["status"] == "revoked"
    assert old["revoked"] == {"reason": "replaced", "replaced_by": new.number}
    assert "Begoña Muñoz" in pdf_text(new.number)
    assert certificate_emails()[-1]["To"].addresses[0].addr_spec == "begona.munoz@example.es"
    with pytest.raises(issuing.CertificateError):
        issuing.revoke(cert.number, "again", settings=get_settings(), now=AFTER)


def test_erasure_withdraws_certificates_and_deletes_attendance(tap: BusTap) -> None:
    imported(tap)
    email = "lucja.wroblewska@example.pl"
    (cert,) = [
        c for c in store.session_certificates(TABLE_NAME, SESSION.session_id) if c.email == email
    ]
    transcript = record.transcript(
        record.build(TABLE_NAME, email, now=AFTER), settings=get_settings(), now=AFTER
    )
    assert [s.session_id for s in transcript.sessions] == [SESSION.session_id]

    rights.erase(email, now=AFTER + timedelta(days=2), settings=get_settings())

    for number in (cert.number, transcript.number):
        view = verification.public_view(verification.find(TABLE_NAME, number))
        assert view == {
            "number": number,
            "kind": view["kind"],
            "status": "withdrawn",
            "message": verification.WITHDRAWN_MESSAGE,
        }
        item = clients.table(TABLE_NAME).get_item(
            Key={"PK": f"CERT#{number}", "SK": "CERTIFICATE"}
        )["Item"]
        assert not {"email", "name", "GSI1PK", "organisation"} & set(item)
    assert record.build(TABLE_NAME, email, now=AFTER).attended == []
    keys_left = [
        o["Key"]
        for o in clients.client("s3")
        .list_objects_v2(Bucket=BUCKET_NAME, Prefix="certificates/")
        .get("Contents", [])
    ]
    assert store.pdf_key(cert.number) not in keys_left
    with pytest.raises(verification.UnknownCertificateError):
        verification.find(TABLE_NAME, "AAAA-AAAA-AAAA-AAAA")
