"""Issuing and revoking certificates of attendance ("Attendance Recorded", and the CLI).

For each attendee an event names, the current attendance record and the session's threshold
decide (not the event's own ``qualifies``: a replayed or late older event cannot undo a
correction):

- qualifies and holds no valid certificate: a number is claimed with a conditional put on the
  person's marker (:func:`shared.certificates.store.claim`), then the certificate item, its PDF
  (``certificates/{number}.pdf`` in the private bucket) and the essential email (send-once, keyed
  by the number) follow, and the marker becomes ``issued``. A crash midway leaves the marker
  ``issuing``: the retry completes that same number. A replay finds ``issued`` and does nothing.
- no longer qualifies and holds a valid certificate: it is revoked ("attendance corrected") and
  the marker dropped, so a later correction over the threshold issues a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from shared.attendance.store import get_attendance, record_expiration, threshold_minutes
from shared.certificates import emails, pdf, store
from shared.certificates.store import Certificate, SessionLine
from shared.i18n.languages import resolve
from shared.mail import sending, templates, to_registrant
from shared.platform.clients import client
from shared.platform.observability import logger
from shared.platform.secrets import signing_keys
from shared.platform.settings import Settings
from shared.programme.models import Session
from shared.programme.repository import get_session
from shared.registrations.models import Registration
from shared.registrations.store import get_registration
from shared.web import links


class CertificateError(LookupError):
    """No such certificate, or not in a state that allows the action (a message for people)."""


@dataclass(frozen=True)
class Outcome:
    issued: list[str]
    """Numbers issued now."""
    revoked: list[str]


def record_attendance(
    session_id: str, emails: list[str], *, settings: Settings, now: datetime
) -> Outcome:
    """Issue or revoke each named attendee's certificate of ``session_id`` (module doc)."""
    table_name = settings.table_name
    session = get_session(table_name, session_id).session
    threshold = threshold_minutes(table_name, session)
    outcome = Outcome([], [])
    for email in emails:
        attendance = get_attendance(table_name, session_id, email)
        if attendance is not None and attendance.minutes >= threshold:
            number = issue(session, email, attendance.minutes, settings=settings, now=now)
            if number:
                outcome.issued.append(number)
            continue
        marker = store.get_marker(table_name, session_id, email)
        if marker is None:
            continue
        cert = store.get_certificate(table_name, marker.number)
        if cert and store.change_status(
            table_name, cert, store.REVOKED, at=now, reason=store.ATTENDANCE_CORRECTED
        ):
            outcome.revoked.append(cert.number)
        store.drop_marker(table_name, session_id, email, marker.number)
    logger.info(
        "Certificates", extra={"issued": len(outcome.issued), "revoked": len(outcome.revoked)}
    )
    return outcome


def issue(
    session: Session, email: str, minutes: int, *, settings: Settings, now: datetime
) -> str | None:
    """Issue (or complete the interrupted issue of) the person's certificate of ``session``;
    the number issued, or None when they already hold one or are no longer registered."""
    table_name = settings.table_name
    registration = get_registration(table_name, session.session_id, email)
    if registration is None:
        return None  # erased (or never registered): nobody to certify
    expiration = record_expiration(session, settings.record_retention_years)
    marker = store.claim(table_name, session.session_id, email, store.new_number(), expiration)
    if marker.state == "issued":
        return None
    cert = store.get_certificate(table_name, marker.number)
    if cert is None:
        cert = Certificate(
            number=marker.number,
            kind=store.CERTIFICATE,
            status=store.VALID,
            email=registration.email,
            name=registration.full_name,
            organisation=registration.organisation,
            issued_at=now,
            sessions=(
                SessionLine(
                    session.session_id,
                    session.title_in(registration.language),
                    local_date(session),
                    minutes,
                ),
            ),
            expiration=expiration,
            language=resolve(registration.language),
        )
        store.put_certificate(table_name, cert)
    deliver(cert, session, settings=settings, now=now, send_key=f"certificate#{cert.number}")
    store.set_marker(table_name, session.session_id, email, cert.number, "issued", expiration)
    return cert.number


def deliver(
    cert: Certificate, session: Session, *, settings: Settings, now: datetime, send_key: str
) -> sending.SendResult:
    """Render and store the PDF, then email the holder their download link (essential mail,
    kind ``certificate``, sent once per ``send_key``)."""
    verify_url = links.verification_url(settings.public_base_url, cert.number)
    document = pdf.certificate_pdf(cert, series=templates.SERIES, verify_url=verify_url)
    store_pdf(settings, cert.number, document)
    registration = get_registration(settings.table_name, session.session_id, cert.email)
    message = certificate_message(cert, session, registration, settings=settings, now=now)
    return sending.send_once(
        settings.table_name, send_key, message, configuration_set=settings.configuration_set
    )


def certificate_message(
    cert: Certificate,
    session: Session,
    registration: Registration | None,
    *,
    settings: Settings,
    now: datetime,
) -> EmailMessage:
    """The ``certificate`` email in the certificate's language: the signed download link and the
    verification URL, with the holder's unsubscribe, "My record" and "your data" links while
    their registration is kept."""
    verify_url = links.verification_url(settings.public_base_url, cert.number)
    download = links.certificate_download_url(
        settings.public_base_url,
        number=cert.number,
        session_id=session.session_id,
        email=cert.email,
        expires_at=datetime.fromtimestamp(cert.expiration, UTC),
        key=signing_keys(settings)[0],
    )
    content = emails.certificate_issued(
        cert, session, registration, download_url=download, verify_url=verify_url
    )
    footer: to_registrant.FooterLinks = {}
    if registration is not None:
        footer = to_registrant.footer_links(registration, session, settings)
    return sending.build_message(
        sender=settings.sender_email,
        recipient=cert.email,
        recipient_name=cert.name,
        content=content,
        date=now,
        kind="certificate",
        brand=templates.brand_of(settings),
        **footer,
    )


def store_pdf(settings: Settings, number: str, document: bytes) -> None:
    """``certificates/{number}.pdf`` in the private bucket (encrypted as the bucket is)."""
    client("s3").put_object(
        Bucket=settings.bucket_name,
        Key=store.pdf_key(number),
        Body=document,
        ContentType="application/pdf",
        ContentDisposition=f'attachment; filename="certificate-{number}.pdf"',
    )


def local_date(session: Session) -> str:
    """The session's date in its own time zone (ISO)."""
    from zoneinfo import ZoneInfo

    return session.start.astimezone(ZoneInfo(session.timezone)).date().isoformat()


# --- organiser actions (kbs certificates ...) -----------------------------------------------


def revoke(number: str, reason: str, *, settings: Settings, now: datetime) -> Certificate:
    """Revoke a valid certificate for ``reason``; :class:`CertificateError` otherwise."""
    cert = _valid(settings.table_name, number)
    if not store.change_status(settings.table_name, cert, store.REVOKED, at=now, reason=reason):
        raise CertificateError(f"certificate {number} is not valid")
    if cert.kind == store.CERTIFICATE:
        store.drop_marker(settings.table_name, cert.session.session_id, cert.email, cert.number)
    return cert


def reissue(number: str, name: str | None, *, settings: Settings, now: datetime) -> Certificate:
    """A new number for a valid certificate (with a corrected ``name`` if given), the old one
    revoked and pointing to it; the holder is emailed the new one."""
    table_name = settings.table_name
    old = _valid(table_name, number)
    if old.kind != store.CERTIFICATE:
        raise CertificateError("a transcript is not reissued: the holder downloads a new one")
    new = store.with_name(old, name.strip() if name else old.name, store.new_number(), now)
    store.put_certificate(table_name, new)
    store.change_status(
        table_name, old, store.REVOKED, at=now, reason=store.REISSUED, replaced_by=new.number
    )
    session_id = new.session.session_id
    store.set_marker(table_name, session_id, new.email, new.number, "issuing", new.expiration)
    session = get_session(table_name, session_id).session
    deliver(new, session, settings=settings, now=now, send_key=f"certificate#{new.number}")
    store.set_marker(table_name, session_id, new.email, new.number, "issued", new.expiration)
    return new


def resend(number: str, *, settings: Settings, now: datetime) -> sending.SendResult:
    """Email a valid certificate to its holder again (a new send key each time)."""
    cert = _valid(settings.table_name, number)
    if cert.kind != store.CERTIFICATE:
        raise CertificateError("only certificates of attendance are emailed")
    session = get_session(settings.table_name, cert.session.session_id).session
    key = f"certificate#{cert.number}#resent#{now.isoformat()}"
    return deliver(cert, session, settings=settings, now=now, send_key=key)


def _valid(table_name: str, number: str) -> Certificate:
    canonical = store.normalise_number(number)
    cert = store.get_certificate(table_name, canonical) if canonical else None
    if cert is None:
        raise CertificateError(f"no certificate {number}")
    if cert.status != store.VALID:
        raise CertificateError(f"certificate {cert.number} is {cert.status}")
    return cert
