"""Every kind of email kbs sends, built from hostile names, organisations and session titles:
the bytes a mail server reads have exactly the intended recipient and headers (issue 12, item 1).

Inputs are not limited to what intake admits: the mail layer must be safe on its own (older
events replayed from the archive, organiser-written titles, uploaded file names).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.certificates import issuing
from shared.certificates.store import CERTIFICATE, VALID, Certificate, SessionLine
from shared.mail import headers, sending
from shared.mail.templates import EmailContent
from shared.materials.uploads import rejection_message
from shared.notices import messages
from shared.notices.kinds import MESSAGES, EmailBatch, NoticeKind
from shared.notices.sender import render as render_notice
from shared.platform.settings import Settings
from shared.programme.models import Session, SessionStatus
from shared.registrations import notification
from shared.registrations.models import Registration, RegistrationStatus
from tests.conftest import LINK_SECRET, SENDER
from tests.unit.test_templates import make_registration, make_session

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings(
    table_name="t",
    sender_email=SENDER,
    link_secret=LINK_SECRET,
    public_base_url="https://kbs.example.org",
    organiser_email="organisers@example.org",
)
MOMENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SESSION_STATUS = {
    NoticeKind.REMINDER_24H: SessionStatus.OPEN,
    NoticeKind.REMINDER_1H: SessionStatus.OPEN,
    NoticeKind.UPDATE: SessionStatus.OPEN,
    NoticeKind.LIVE: SessionStatus.LIVE,
    NoticeKind.FOLLOW_UP: SessionStatus.ENDED,
    NoticeKind.MATERIALS: SessionStatus.ENDED,
    NoticeKind.CANCELLATION: SessionStatus.CANCELLED,
    NoticeKind.MESSAGE: SessionStatus.OPEN,
    NoticeKind.MESSAGE_ESSENTIAL: SessionStatus.OPEN,
}
# What the built message's top-level headers are, in order (plus the two of an attachment-less
# or attached body, both multipart): anything else in the bytes was injected.
BASE_HEADERS = ["From", "To", "Subject", "Date", "Auto-Submitted", "X-KBS-Kind"]
REGISTRANT_HEADERS = [*BASE_HEADERS, "List-Unsubscribe", "List-Unsubscribe-Post"]
BODY_HEADERS = ["MIME-Version", "Content-Type"]

Build = Callable[[Registration, Session], tuple[EmailMessage, str, str]]
"""A kind's builder: the message, the intended recipient and the intended display name."""


def status_email(status: RegistrationStatus) -> Build:
    def build(registration: Registration, session: Session) -> tuple[EmailMessage, str, str]:
        registration = registration.model_copy(update={"status": status})
        message = notification.status_message(registration, session, now=MOMENT, settings=SETTINGS)
        return message, registration.email, registration.full_name

    return build


def notice(kind: NoticeKind) -> Build:
    def build(registration: Registration, session: Session) -> tuple[EmailMessage, str, str]:
        session = session.model_copy(update={"status": SESSION_STATUS[kind]})
        batch = EmailBatch(
            kind=kind,
            session_id=session.session_id,
            version="v",
            moment=MOMENT,
            reason=f"{session.title} was moved",
            recipients=[registration.email],
        )
        organiser = None
        if kind in MESSAGES:  # the organiser's subject and body: outside text too
            organiser = messages.compose(
                session.session_id,
                "".join(c for c in session.title if c.isprintable()).strip() or "x",
                f"{registration.organisation}\n\n{session.title}",
                messages.Audience.ALL,
                essential=kind is NoticeKind.MESSAGE_ESSENTIAL,
                now=MOMENT,
            )
        message = render_notice(
            batch, registration, session, settings=SETTINGS, files=[], message=organiser
        )
        return message, registration.email, registration.full_name

    return build


def material_rejected(
    registration: Registration, session: Session
) -> tuple[EmailMessage, str, str]:
    # The uploader chooses the file name: it ends up in the subject.
    item = {
        "key": f"sessions/{session.session_id}/{session.title}.pdf",
        "message": registration.organisation,
        "quarantine_key": f"quarantine/{session.title}.pdf",
        "uploaded_at": MOMENT.isoformat(),
    }
    message = rejection_message(item, SETTINGS)
    return message, SETTINGS.organiser_email, "Knowledge Building Series organisers"


def place_cancelled(registration: Registration, session: Session) -> tuple[EmailMessage, str, str]:
    # The organiser's reason (``kbs registrants remove --reason``) is echoed in the body.
    message = notification.place_cancelled_message(
        registration,
        session,
        previous_status=RegistrationStatus.CONFIRMED,
        cancelled_at=MOMENT,
        reason=registration.organisation,
        settings=SETTINGS,
    )
    return message, registration.email, registration.full_name


def certificate(registration: Registration, session: Session) -> tuple[EmailMessage, str, str]:
    # The holder's name (and the session's title) as registered go into the email.
    cert = Certificate(
        number="ABCD-EFGH-JKMN-PQRS",
        kind=CERTIFICATE,
        status=VALID,
        email=registration.email,
        name=registration.full_name,
        organisation=registration.organisation,
        issued_at=MOMENT,
        sessions=(SessionLine(session.session_id, session.title, "2026-12-01", 90),),
        expiration=int(MOMENT.timestamp()) + 86_400,
    )
    message = issuing.certificate_message(
        cert, session, registration, settings=SETTINGS, now=MOMENT
    )
    return message, registration.email, registration.full_name


KINDS: dict[str, Build] = {
    "confirmation": status_email(RegistrationStatus.CONFIRMED),
    "waitlist": status_email(RegistrationStatus.WAITLISTED),
    **{kind.value: notice(kind) for kind in NoticeKind},
    "material-rejected": material_rejected,
    "place-cancelled": place_cancelled,
    "certificate": certificate,
}


def test_every_kind_of_email_in_the_code_is_covered_here() -> None:
    """The kinds named in ``shared/`` (``kind="..."`` literals and :class:`NoticeKind`)."""
    named = set()
    for path in (ROOT / "shared").rglob("*.py"):
        named |= set(re.findall(r'\bkind\s*=\s*"([a-z0-9-]+)"', path.read_text()))
    named |= {kind.value for kind in NoticeKind}
    assert named and named <= set(KINDS), sorted(named - set(KINDS))


HOSTILE = [
    "=?utf-8?q?Eve=0D=0ABcc=3A_x=40evil.example?=",
    "=?utf-8?q?Eve=0D=0AReply-To=3A_x=40evil.example?=",
    "=?utf-8?q?Eve=0D=0A=0D=0AYour_refund_is_ready?=",
    "=?utf-8?b?RXZlIDxldmVAZXZpbC5leGFtcGxlPiwgeEBldmlsLmV4YW1wbGU=?=",  # "Eve <eve@...>, x@..."
    '"Eve" <eve@evil.example>, x@evil.example',
    "Eve\r\nBcc: x@evil.example",
    "Eve\r\n\r\nbody",
    "Zoë Åkesson",
    'O\'Brien, "Dr." (ICT) <buyer>; x@y',
    "\u202egnp.exe",
    "=?",
]
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(min_size=1, max_size=150),
    st.lists(st.sampled_from(HOSTILE) | st.text(max_size=10), min_size=1, max_size=4).map("".join),
)


def check(message: EmailMessage, kind: str, recipient: str, name: str) -> None:
    data = message.as_bytes()
    parsed = message_from_bytes(data, policy=policy.default)
    header_block = data.split(b"\r\n\r\n", 1)[0]
    assert header_block.isascii()
    assert all(
        line.startswith((b" ", b"\t")) or b":" in line for line in header_block.split(b"\r\n")
    )
    [to] = parsed.get_all("To") or []
    assert [a.addr_spec for a in to.addresses] == [recipient]
    # Spaces aside: Python reads the fold between two encoded words of a name as a space.
    assert ["".join(a.display_name.split()) for a in to.addresses] == [
        "".join(headers.one_line(name).split())
    ]
    assert [a.addr_spec for a in parsed["From"].addresses] == [SENDER]
    for forbidden in ("Cc", "Bcc", "Reply-To", "Sender", "Resent-To"):
        assert parsed[forbidden] is None
    expected = REGISTRANT_HEADERS if kind != "material-rejected" else BASE_HEADERS
    assert list(parsed.keys()) == [*expected, *BODY_HEADERS]
    assert parsed["X-KBS-Kind"] == kind
    assert "\n" not in str(parsed["Subject"]) and "\r" not in str(parsed["Subject"])


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=TEXT, organisation=TEXT, title=TEXT)
def test_hostile_text_never_shapes_the_headers_of_any_kind(
    kind: str, name: str, organisation: str, title: str
) -> None:
    registration = make_registration(full_name=name, organisation=organisation)
    session = make_session().model_copy(update={"title": title})

    message, recipient, shown = KINDS[kind](registration, session)

    check(message, kind, recipient, shown)


def test_the_issue_example_reads_back_as_one_recipient_with_the_literal_name() -> None:
    name = "=?utf-8?q?Eve=0D=0ABcc=3A_x=40evil.example?="
    registration = make_registration(full_name=name)

    message, recipient, _ = KINDS["confirmation"](registration, make_session())

    header_block = message.as_bytes().split(b"\r\n\r\n", 1)[0]
    assert b"Bcc" not in header_block and b"evil.example" not in header_block  # encoded text
    check(message, "confirmation", recipient, name)


@pytest.mark.parametrize(
    "raw_to",
    [
        "Marta <marta@example.org>\r\nBcc: x@evil.example",  # an added header
        "Marta <marta@example.org>, x@evil.example",  # a second recipient
        "Marta <x@evil.example>",  # another recipient
        "Marta <marta@example.org>\r\n\r\nbody",  # the headers cut short
    ],
)
def test_a_message_changed_after_building_is_refused(raw_to: str) -> None:
    """What :func:`sending.send_once` checks before SES gets the bytes (see test_mail.py)."""
    message = sending.build_message(
        sender=SENDER,
        recipient="marta@example.org",
        recipient_name="Marta",
        content=EmailContent(subject="s", text="t", html="<p>h</p>"),
        date=MOMENT,
    )
    del message["To"]
    message.set_raw("To", raw_to)
    with pytest.raises(headers.UnsafeMessageError):
        headers.verify(message, sender=SENDER, recipients=["marta@example.org"])
