"""The HTML pages of the public API: the browser-form answers and the pages of the signed links
(the registration page is :mod:`shared.web.form_page`).

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
from shared.platform.rendering import render
from shared.programme.models import Session
from shared.web.form_page import Organiser as Organiser  # the registration page, re-exported
from shared.web.form_page import registration_page as registration_page
from shared.web.form_page import speaker

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


def confirmation_page(reference: str, sessions: Sequence[Session], language: str = ENGLISH) -> str:
    """Shown after a browser form post was accepted (202), in the page's ``language``."""
    from markupsafe import Markup, escape

    _ = speaker(language)
    return render(
        _HERE,
        "confirmation.html",
        title=_("Registration received"),
        lang=language,
        _=_,
        reference_html=Markup("<strong>%s</strong>") % escape(reference),
        sessions=sessions,
        local_start=local_start,
    )


def problem_page(
    errors: Mapping[str, str], *, fields: Sequence[str], language: str = ENGLISH
) -> str:
    """The errors of a browser form post (already in ``language``), each linking back to its
    field on the form; the page's own words in ``language``."""
    _ = speaker(language)
    return render(
        _HERE,
        "problem.html",
        title=_("There is a problem"),
        lang=language,
        _=_,
        errors=errors,
        fields=fields,
    )


def unavailable_page(message: str, language: str = ENGLISH) -> str:
    """Shown when the service could not record the request (503); ``message`` is already in
    ``language``, the page's own words are translated."""
    _ = speaker(language)
    return render(
        _HERE, "unavailable.html", title=_("Please try again"), lang=language, _=_, message=message
    )


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
