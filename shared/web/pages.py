"""The HTML pages of the public API: the registration page's slots, the browser-form answers and
the pages of the signed links.

Each page is a Jinja2 template in ``shared/web/templates/`` extending ``base.html``; Jinja2
escapes everything interpolated. Inline ``<script>``/``<style>`` blocks are allowed by hash in
the Content-Security-Policy (:func:`security_headers`), so nothing else can run.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from shared.i18n.languages import ENGLISH
from shared.i18n.times import session_time_label
from shared.platform.quality import quality_values
from shared.platform.rendering import macros, render
from shared.programme.models import Session, SessionAvailability

SESSIONS_SLOT = "<!--sessions-->"
CONSENT_VERSION_SLOT = "<!--consent-version-->"
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
_HERE = "shared.web"  # the package whose templates/ folder holds the pages


def prefers_html(accept: str | None) -> bool:
    """True if the ``Accept`` header ranks ``text/html`` above JSON (a browser form post)."""
    if not accept:
        return False
    html = json = 0.0
    for media_type, quality in quality_values(accept):
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


def local_start(session: Session, language: str | None = None) -> str:
    """The start in the session's own time zone, naming it, e.g. ``Tuesday 1 December 2026,
    10:00 CET (Europe/Brussels)`` (:func:`shared.i18n.times.session_time_label`)."""
    return session_time_label(session.start, None, session.timezone, language)


FULLY_BOOKED = "Fully booked: join the waiting list"
ORGANISER_SLOT = "<!--organiser-->"


@dataclass(frozen=True)
class Organiser:
    """What the page says of the organisers: their privacy notice (a URL, may be empty), a
    contact address, and the programme's calendar feed (``https://`` and ``webcal://``)."""

    privacy_url: str = ""
    contact_email: str = "series@example.org"
    feed_https: str = "sessions.ics"
    feed_webcal: str = "sessions.ics"


def places_text(places_left: int) -> str:
    if places_left <= 0:
        return FULLY_BOOKED
    return f"{places_left} place{'s' if places_left != 1 else ''} left"


def registration_page(
    template: str,
    sessions: Sequence[SessionAvailability],
    consent_version: str,
    language: str = ENGLISH,
    organiser: Organiser | None = None,
) -> str:
    """The static page with the open sessions' checkboxes (descriptions, speakers, places left
    or "Fully booked"), the consent version, and the organiser's part (the programme's feed,
    the privacy notice and the contact address) filled in; ``language`` (the browser's,
    :func:`shared.i18n.languages.from_accept_language`) is chosen in the "Preferred language"
    select: the language of the registrant's emails."""
    slots = macros(_HERE, "registration.html")
    choices = slots.session_choices(sessions, local_start, places_text)
    about = organiser or Organiser()
    footer = slots.organiser(
        about.privacy_url, about.contact_email, about.feed_https, about.feed_webcal
    )
    page = (
        template.replace(SESSIONS_SLOT, choices)
        .replace(CONSENT_VERSION_SLOT, slots.consent_version(consent_version))
        .replace(ORGANISER_SLOT, str(footer))
    )
    if language != ENGLISH:
        option = f'<option value="{language}" lang="{language}">'
        page = page.replace(option, option[:-1] + " selected>", 1)
    return page


def confirmation_page(reference: str, sessions: Sequence[Session]) -> str:
    """Shown after a browser form post was accepted (202)."""
    return render(
        _HERE,
        "confirmation.html",
        title="Registration received",
        reference=reference,
        sessions=sessions,
        local_start=local_start,
    )


def problem_page(errors: Mapping[str, str], *, fields: Sequence[str]) -> str:
    """The errors of a browser form post, each linking back to its field on the form."""
    return render(_HERE, "problem.html", title="There is a problem", errors=errors, fields=fields)


def unavailable_page(message: str) -> str:
    """Shown when the service could not record the request (503)."""
    return render(_HERE, "unavailable.html", title="Please try again", message=message)


# --- a session's materials (``/sessions/{id}/materials``) ------------------------------------


def materials_page(session_title: str, when: str, files: Sequence[tuple[str, str]]) -> str:
    """A session's materials for one registrant: each ``(label, url)`` a download link."""
    return render(
        _HERE,
        "materials.html",
        title=f"Materials: {session_title}",
        session_title=session_title,
        when=when,
        files=files,
    )


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
    action = f"unsubscribe?{urlencode({'token': token})}"
    return render(_HERE, "unsubscribe.html", title="Unsubscribe", action=action, token=token)


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
    return render(
        _HERE,
        "cancel.html",
        title=heading.rstrip("?"),
        heading=heading,
        held=held,
        session_title=session_title,
        when=when,
        reference=reference,
        effect=effect,
        token=token,
        button=button,
    )


def notice_page(notice: Notice, session_title: str = "", when: str = "") -> str:
    """A page telling one outcome, naming the session when it is known."""
    return render(
        _HERE,
        "notice.html",
        title=notice.heading,
        notice=notice,
        session_title=session_title,
        when=when,
    )


# --- a registrant's own data (``/privacy``: shared/privacy/rights.py) -----------------------------


def privacy_page(token: str, retention_days: int, record_years: int = 6) -> str:
    """The "your data" page: export or erase, each a button that posts the token."""
    return render(
        _HERE,
        "privacy.html",
        title="Your personal data",
        token=token,
        retention_days=retention_days,
        record_years=record_years,
    )


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
