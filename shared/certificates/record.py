"""The series record ("My record", ``GET /record?token=...``): a person's attendance and
certificates across the series and its years, their current registrations, the totals, and a
transcript of every attended session (its own number, verified like a certificate).

The link names one of the person's registrations (:mod:`shared.certificates.record_link`).
Registrations expire after ``retention_days`` but attendance is kept for years, so when the
registration is gone the address is found among the attendance of the link's session (one
Query on its partition, matched by the link's address hash).

Erasure (:func:`erase`, called by :mod:`shared.privacy.rights`) deletes the attendance and the
PDFs, and leaves a tombstone of each number: verification then says it was withdrawn at the
holder's request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.attendance import store as attendance
from shared.certificates import pdf, store, wording
from shared.certificates.store import Certificate, SessionLine
from shared.i18n.languages import ENGLISH, resolve
from shared.mail.templates import SERIES
from shared.platform.clients import client
from shared.platform.rendering import render
from shared.platform.secrets import signing_keys
from shared.platform.settings import Settings
from shared.programme.models import SessionStatus
from shared.programme.repository import SessionNotFoundError, get_session
from shared.registrations.models import RegistrationStatus, normalise_email
from shared.registrations.store import reference_registrations, registrant_registrations
from shared.web import links


class NoRecordError(LookupError):
    """The link names nobody we hold a record of."""


@dataclass(frozen=True)
class Line:
    line: SessionLine
    certificate: Certificate | None


@dataclass(frozen=True)
class Record:
    email: str
    name: str
    organisation: str
    attended: list[Line]
    """Every attended session, by date."""
    registrations: list[tuple[str, str, str]]
    """Current places: (title, ISO date, status)."""
    language: str = ""
    """The language of the person's latest registration (else of their latest certificate);
    empty when neither is held: the page then follows the browser (:func:`page`)."""

    @property
    def minutes(self) -> int:
        return sum(a.line.minutes for a in self.attended)

    @property
    def cpd_hours(self) -> Any:
        return sum((store.cpd_hours(a.line.minutes) for a in self.attended), start=0)


def address_of(token: str, *, settings: Settings, now: datetime) -> str:
    """The address a "My record" link was issued to; ``links.InvalidLinkError`` or
    :class:`NoRecordError`."""
    claims = links.verify(token, signing_keys(settings), purpose=links.RECORD, now=now)
    for registration in reference_registrations(settings.table_name, claims.reference):
        if registration.session_id == claims.session_id and claims.is_for(registration.email):
            return normalise_email(registration.email)
    for held in attendance.session_attendance(settings.table_name, claims.session_id):
        if claims.is_for(held.email):
            return held.email
    raise NoRecordError(claims.reference)


def build(table_name: str, email: str, *, now: datetime) -> Record:
    """Everything "My record" shows about ``email``, session titles in their language (the
    latest registration's, else the latest certificate's)."""
    certificates = store.person_certificates(table_name, email)
    registrations = sorted(
        registrant_registrations(table_name, email), key=lambda r: r.registered_at
    )
    language = registrations[-1].language if registrations else ""
    if not language and certificates:
        language = certificates[-1].language
    by_session = {
        c.session.session_id: c
        for c in certificates
        if c.kind == store.CERTIFICATE and c.status == store.VALID
    }
    attended: list[Line] = []
    for held in attendance.person_attendance(table_name, email):
        if held.minutes <= 0:
            continue
        try:
            session = get_session(table_name, held.session_id).session
        except SessionNotFoundError:
            continue
        from shared.certificates.issuing import local_date

        title = session.title_in(language)
        line = SessionLine(session.session_id, title, local_date(session), held.minutes)
        attended.append(Line(line, by_session.get(session.session_id)))
    attended.sort(key=lambda a: a.line.date)
    name, organisation, current = "", "", []
    for registration in registrations:
        name, organisation = registration.full_name, registration.organisation
        try:
            session = get_session(table_name, registration.session_id).session
        except SessionNotFoundError:
            continue
        held_place = registration.status in (
            RegistrationStatus.CONFIRMED,
            RegistrationStatus.WAITLISTED,
        )
        if held_place and session.status is not SessionStatus.CANCELLED and session.end > now:
            current.append(
                (
                    session.title_in(language),
                    session.start.date().isoformat(),
                    str(registration.status),
                )
            )
    if not name and certificates:
        name, organisation = certificates[-1].name, certificates[-1].organisation
    return Record(normalise_email(email), name, organisation, attended, current, language)


def page(record: Record, transcript_url: str, *, browser_language: str | None = None) -> str:
    """The "My record" page (HTML) in the record's language, else ``browser_language`` (the
    ``Accept-Language`` choice, :func:`shared.i18n.languages.from_accept_language`), else
    English; dates in the locale's words, CPD hours as the locale writes decimals."""
    language = resolve(record.language or browser_language)
    _ = wording.speaker(language)
    by_year: dict[str, list[Line]] = {}
    for line in record.attended:
        by_year.setdefault(line.line.date[:4], []).append(line)
    return render(
        "shared.web",
        "record.html",
        title=_("My record"),
        lang=language,
        _=_,
        record=record,
        by_year=by_year,
        cpd=lambda minutes: wording.hours(store.cpd_hours(minutes), language),
        hours=wording.hours(record.cpd_hours, language),
        day=lambda iso: wording.long_date(iso, language),
        status=lambda value: _(wording.STATUSES[value]) if value in wording.STATUSES else value,
        transcript_url=transcript_url,
    )


def transcript(
    record: Record, *, settings: Settings, now: datetime, browser_language: str | None = None
) -> Certificate:
    """A valid transcript of ``record``: the one already issued for exactly these sessions,
    minutes, name and language, else a new number with its PDF in the bucket. Its language is
    the record's, else ``browser_language``, else English (as :func:`page`). ``NoRecordError``
    when nothing was attended."""
    if not record.attended:
        raise NoRecordError("no attended session")
    lines = tuple(a.line for a in record.attended)
    language = resolve(record.language or browser_language)
    stated = [record.name, record.organisation, [list(vars(x).values()) for x in lines]]
    if language != ENGLISH:
        stated.append(language)  # English keeps the digests issued before
    fingerprint = hashlib.sha256(json.dumps(stated).encode()).hexdigest()
    for cert in store.person_certificates(settings.table_name, record.email):
        valid = cert.kind == store.TRANSCRIPT and cert.status == store.VALID
        if valid and cert.fingerprint == fingerprint:
            return cert
    last = get_session(settings.table_name, lines[-1].session_id).session
    cert = Certificate(
        number=store.new_number(),
        kind=store.TRANSCRIPT,
        status=store.VALID,
        email=record.email,
        name=record.name,
        organisation=record.organisation,
        issued_at=now,
        sessions=lines,
        fingerprint=fingerprint,
        expiration=attendance.record_expiration(last, settings.record_retention_years),
        language=language,
    )
    verify_url = links.verification_url(settings.public_base_url, cert.number)
    document = pdf.transcript_pdf(cert, series=SERIES, verify_url=verify_url)
    from shared.certificates.issuing import store_pdf

    store_pdf(settings, cert.number, document)
    store.put_certificate(settings.table_name, cert)
    return cert


def erase(email: str, *, settings: Settings, now: datetime) -> dict[str, int]:
    """Delete ``email``'s attendance, markers and PDFs, and withdraw every certificate and
    transcript (a tombstone of the number remains); idempotent. Counts only."""
    table_name, email_key = settings.table_name, normalise_email(email)
    certificates = store.person_certificates(table_name, email_key)
    for cert in certificates:
        store.change_status(table_name, cert, store.WITHDRAWN, at=now)
        if cert.kind == store.CERTIFICATE:
            store.drop_marker(table_name, cert.session.session_id, email_key, cert.number)
        if settings.bucket_name:
            client("s3").delete_object(Bucket=settings.bucket_name, Key=store.pdf_key(cert.number))
    held = attendance.person_attendance(table_name, email_key)
    attendance.write_records(table_name, [], [(a.session_id, email_key) for a in held])
    return {"certificates": len(certificates), "attendance": len(held)}
