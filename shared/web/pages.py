"""Small HTML renderer for the registration page and the browser-form responses.

Everything interpolated is escaped. Inline ``<script>``/``<style>`` blocks are allowed by
hash in the Content-Security-Policy (:func:`security_headers`), so nothing else can run.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from shared.programme.models import Session, SessionAvailability

SESSIONS_SLOT = "<!--sessions-->"
CONSENT_VERSION_SLOT = "<!--consent-version-->"
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
_STYLE = """
body{font:1.05rem/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
body{color:#1b1b1b}h1{font-size:1.6rem}.error{color:#b00020}a{color:#1d4ed8}
"""


def prefers_html(accept: str | None) -> bool:
    """True if the ``Accept`` header ranks ``text/html`` above JSON (a browser form post)."""
    if not accept:
        return False
    html = json = 0.0
    for item in accept.split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media_type = media_type.lower()
        if media_type in ("text/html", "application/xhtml+xml"):
            html = max(html, quality)
        elif media_type in ("application/json", "application/*", "*/*"):
            json = max(json, quality)
    return html > json


def security_headers(html: str) -> dict[str, str]:
    """Headers for an HTML response: a CSP allowing exactly this page's inline blocks."""
    sources: dict[str, list[str]] = {"script": [], "style": []}
    for kind, body in _INLINE.findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        sources[kind].append(f"'sha256-{digest}'")
    script_src = " ".join(sources["script"]) or "'none'"
    style_src = " ".join(sources["style"]) or "'none'"
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src {script_src}",
            f"style-src {style_src}",
            "connect-src 'self'",
            "img-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def local_start(session: Session) -> str:
    """The start in the session's own time zone, e.g. ``Tuesday 1 December 2026, 10:00 CET``."""
    start = session.start.astimezone(ZoneInfo(session.timezone))
    return f"{start:%A} {start.day} {start:%B %Y, %H:%M %Z}"


def places_text(places_left: int) -> str:
    if places_left <= 0:
        return "Fully booked: you will join the waiting list"
    return f"{places_left} place{'s' if places_left != 1 else ''} left"


def registration_page(
    template: str, sessions: Sequence[SessionAvailability], consent_version: str
) -> str:
    """The static page with the open sessions' checkboxes and the consent version filled in."""
    return template.replace(SESSIONS_SLOT, _session_choices(sessions)).replace(
        CONSENT_VERSION_SLOT, escape(consent_version)
    )


def _session_choices(sessions: Sequence[SessionAvailability]) -> str:
    if not sessions:
        return '<p class="hint">No session is open for registration at the moment.</p>'
    items = [
        '<div class="choice"><input type="checkbox" name="sessions" value="all" id="session-all">'
        ' <label for="session-all">All open sessions</label></div>'
    ]
    for availability in sessions:
        session = availability.session
        sid = escape(session.session_id)
        details = " · ".join(
            [
                escape(session.kind.value.capitalize()),
                escape(session.category),
                escape(f"{local_start(session)} ({session.timezone})"),
                f"{session.duration_minutes} minutes",
                f'<span data-places="{sid}">{places_text(availability.places_left)}</span>',
            ]
        )
        items.append(
            f'<div class="choice"><input type="checkbox" name="sessions" value="{sid}"'
            f' id="session-{sid}" aria-describedby="session-{sid}-details">'
            f' <label for="session-{sid}">{escape(session.title)}</label>'
            f'<p class="hint" id="session-{sid}-details">{details}</p></div>'
        )
    return "\n".join(items)


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} \N{EN DASH} Knowledge Building Series</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def confirmation_page(reference: str, sessions: Sequence[Session]) -> str:
    """Shown after a browser form post was accepted (202)."""
    items = "".join(
        f"<li>{escape(s.title)}: {escape(local_start(s))} ({escape(s.timezone)})</li>"
        for s in sessions
    )
    return _document(
        "Registration received",
        "<h1>Registration received</h1>\n"
        f"<p>Your reference is <strong>{escape(reference)}</strong>.</p>\n"
        f"<p>You asked to join:</p>\n<ul>{items}</ul>\n"
        "<p>We will email you a confirmation with the joining link and a calendar invitation. "
        "If a session is fully booked you will be put on its waiting list and told by email. "
        "If you were already registered, we email you your details again instead.</p>",
    )


def problem_page(errors: Mapping[str, str], *, fields: Sequence[str]) -> str:
    """The errors of a browser form post, each linking back to its field on the form."""
    items = "".join(
        f'<li><a href="./#{escape(field)}">{escape(message)}</a></li>'
        if field in fields
        else f"<li>{escape(message)}</li>"
        for field, message in errors.items()
    )
    return _document(
        "There is a problem",
        '<h1>There is a problem</h1>\n<ul class="error">' + items + "</ul>\n"
        "<p>Use your browser's Back button to correct your answers (they are kept), "
        'or <a href="./">start again</a>.</p>',
    )


def unavailable_page(message: str) -> str:
    """Shown when the service could not record the request (503)."""
    return _document(
        "Please try again",
        f"<h1>Please try again</h1>\n<p>{escape(message)}</p>\n"
        '<p><a href="./">Back to the form</a></p>',
    )


# --- a session's materials (``/sessions/{id}/materials``) ------------------------------------


def materials_page(session_title: str, when: str, files: Sequence[tuple[str, str]]) -> str:
    """A session's materials for one registrant: each ``(label, url)`` a download link."""
    if files:
        items = "".join(
            f'<li><a href="{escape(url)}">{escape(label)}</a></li>' for label, url in files
        )
        listing = f"<ul>{items}</ul>\n<p>These links are personal: please do not forward them.</p>"
    else:
        listing = "<p>No materials yet: we will email you when the slides and notes are ready.</p>"
    body = (
        f"<h1>Materials</h1>\n<p><strong>{escape(session_title)}</strong><br>{escape(when)}</p>\n"
        f"{listing}"
    )
    return _document(f"Materials: {session_title}", body)


# --- self-service cancellation (``/registrations/cancel``) ----------------------------------


@dataclass(frozen=True)
class Notice:
    """One outcome told to a person: HTTP status, a code for JSON clients, heading, message."""

    status: int
    code: str
    heading: str
    message: str


UNCHANGED = "Nothing has been changed."
CANCELLED = Notice(
    200,
    "cancelled",
    "Registration cancelled",
    "Your registration is cancelled and your place will be offered to the next person on the "
    "waiting list. Thank you for letting us know.",
)
LEFT_WAITLIST = Notice(
    200,
    "cancelled",
    "You have left the waiting list",
    "You will not be offered a place in this session. Thank you for letting us know.",
)
ALREADY_CANCELLED = Notice(
    200,
    "already_cancelled",
    "Already cancelled",
    f"This registration was cancelled before. {UNCHANGED}",
)
MISSING_LINK = Notice(
    400,
    "missing_token",
    "This link is incomplete",
    f"Please open the cancellation link from your email exactly as it was sent. {UNCHANGED}",
)
INVALID_LINK = Notice(
    403,
    "invalid_link",
    "This link is not valid",
    "The link has been altered or cut short. Please open the cancellation link from your "
    f"email exactly as it was sent. {UNCHANGED}",
)
EXPIRED_LINK = Notice(
    403, "expired_link", "This link has expired", f"The link can no longer be used. {UNCHANGED}"
)
NOT_FOUND = Notice(
    404,
    "not_found",
    "Registration not found",
    f"No current registration matches this link. {UNCHANGED} If you registered again since, "
    "please use the link in your most recent email.",
)
SESSION_OVER = Notice(
    409,
    "session_over",
    "This session has taken place",
    f"There is nothing left to cancel. {UNCHANGED}",
)
LINK_UNAVAILABLE = Notice(
    503,
    "unavailable",
    "Please try again",
    "The service is temporarily unavailable. Please try again in a minute.",
)


# --- unsubscribe (``/unsubscribe``, shared/mail/unsubscribe.py) ---------------------------------


def unsubscribe_page(token: str) -> str:
    """The step before unsubscribing: what it does, and a button that posts the link back."""
    action = escape(f"unsubscribe?{urlencode({'token': token})}", quote=True)
    body = (
        "<h1>Stop notices from the Knowledge Building Series?</h1>\n"
        "<p>You will receive no more notices from us: no reminders, live notices, follow-ups, "
        "materials announcements or other messages from the organisers, for any session.</p>\n"
        "<p>Essential emails about a place you hold or asked for still come: confirmations, "
        "waiting-list news and places offered to you, cancellations of your place, and sessions "
        "rescheduled or cancelled, with their calendar updates. To stop those, cancel your "
        "registration.</p>\n"
        "<p>Your registrations are kept. If you register again later, notices start again.</p>\n"
        f'<form method="post" action="{action}">\n'
        f'<input type="hidden" name="token" value="{escape(token)}">\n'
        '<button type="submit">Unsubscribe</button>\n</form>\n'
        "<p>To keep receiving emails, just close this page: nothing changes unless you press "
        "the button.</p>"
    )
    return _document("Unsubscribe", body)


UNSUBSCRIBED = Notice(
    200,
    "unsubscribed",
    "You are unsubscribed",
    "We will send you no more notices; essential emails about a place you hold or asked for "
    "still come. If you register again later, notices start again.",
)
ALREADY_UNSUBSCRIBED = Notice(
    200,
    "already_unsubscribed",
    "You are unsubscribed",
    f"We already send no notices to this address. {UNCHANGED}",
)
UNSUBSCRIBE_MISSING = Notice(
    400,
    "missing_token",
    "This link is incomplete",
    f"Please open the unsubscribe link from your email exactly as it was sent. {UNCHANGED}",
)
UNSUBSCRIBE_INVALID = Notice(
    403,
    "invalid_link",
    "This link is not valid",
    "The link has been altered or cut short. Please open the unsubscribe link from your "
    f"email exactly as it was sent. {UNCHANGED}",
)
UNSUBSCRIBE_EXPIRED = Notice(
    403,
    "expired_link",
    "This link has expired",
    f"The link can no longer be used. {UNCHANGED} Please use the link in a recent email.",
)
UNSUBSCRIBE_NOT_FOUND = Notice(
    404,
    "not_found",
    "Registration not found",
    f"No registration matches this link. {UNCHANGED}",
)


def cancel_page(
    *, session_title: str, when: str, reference: str, waitlisted: bool, token: str
) -> str:
    """The step before cancelling: what the link cancels, and a button that posts the token."""
    if waitlisted:
        heading, button = "Leave the waiting list?", "Leave the waiting list"
        held = "You are on the waiting list for:"
        effect = "If you leave, you will not be offered a place if one becomes available."
    else:
        heading, button = "Cancel your registration?", "Cancel my registration"
        held = "You have a place in:"
        effect = "If you cancel, your place will be offered to the next person on the waiting list."
    body = (
        f"<h1>{escape(heading)}</h1>\n<p>{escape(held)}</p>\n"
        f"{_session_paragraph(session_title, when)}\n"
        f"<p>Registration reference: <strong>{escape(reference)}</strong></p>\n"
        f"<p>{escape(effect)}</p>\n"
        '<form method="post" action="cancel">\n'
        f'<input type="hidden" name="token" value="{escape(token)}">\n'
        f'<button type="submit">{escape(button)}</button>\n</form>\n'
        "<p>To keep it, just close this page: nothing changes unless you press the button.</p>"
    )
    return _document(heading.rstrip("?"), body)


def notice_page(notice: Notice, session_title: str = "", when: str = "") -> str:
    """A page telling one outcome, naming the session when it is known."""
    session = f"\n{_session_paragraph(session_title, when)}" if session_title else ""
    body = f"<h1>{escape(notice.heading)}</h1>{session}\n<p>{escape(notice.message)}</p>"
    return _document(notice.heading, body)


def _session_paragraph(title: str, when: str) -> str:
    return f"<p><strong>{escape(title)}</strong><br>{escape(when)}</p>"


# --- a registrant's own data (``/privacy``: shared/privacy/rights.py) -----------------------------


def privacy_page(token: str, retention_days: int) -> str:
    """The "your data" page: export or erase, each a button that posts the token."""
    body = (
        "<h1>Your personal data</h1>\n"
        "<p>We hold your name, email address, organisation, country and the details of your "
        "registrations, only to run the series, and delete them "
        f"{retention_days} days after each session.</p>\n"
        "<p>Unsubscribing stops notices (reminders, live notices, follow-ups, materials, "
        "organisers' messages); essential emails about a place you hold or asked for still "
        "come. A hard bounce or a complaint stops every email.</p>\n"
        '<form method="post" action="privacy/export">\n'
        f'<input type="hidden" name="token" value="{escape(token)}">\n'
        '<button type="submit">Download my data (JSON)</button>\n</form>\n'
        '<form method="post" action="privacy/erase">\n'
        f'<input type="hidden" name="token" value="{escape(token)}">\n'
        "<p>Erasing your data cancels your places in sessions still to come (they go to the "
        "waiting list) and removes every registration of this address. It cannot be undone.</p>"
        '\n<button type="submit">Erase my data</button>\n</form>\n'
        "<p>Nothing changes unless you press a button.</p>"
    )
    return _document("Your personal data", body)


ERASED = Notice(
    200,
    "erased",
    "Your data has been erased",
    "We no longer hold your registrations or any other personal data of this address. Places "
    "you held in coming sessions have been offered to the waiting list.",
)
NOTHING_HELD = Notice(
    404,
    "nothing_held",
    "No data held",
    f"We hold no personal data under this link: it was erased, or has expired. {UNCHANGED}",
)
PRIVACY_INVALID_LINK = Notice(
    403,
    "invalid_link",
    "This link is not valid",
    "The link has been altered, cut short or has expired. Please open the link from your most "
    f"recent email exactly as it was sent. {UNCHANGED}",
)
PRIVACY_MISSING_LINK = Notice(
    400,
    "missing_token",
    "This link is incomplete",
    f"Please open the link from your email exactly as it was sent. {UNCHANGED}",
)
