"""The one status email of a submission for several sessions: each session with its place
(confirmed, or number N on the waiting list) and its own links (join, add to calendar,
cancel), then the registrant's calendar feed. Laid out like every email
(:mod:`shared.mail.blocks`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.mail import calendar_links
from shared.mail.blocks import (
    SERIES,
    Block,
    EmailContent,
    Feed,
    Link,
    Links,
    SessionBlock,
    feed_block,
    render_blocks,
)
from shared.programme.models import Session


@dataclass(frozen=True)
class Place:
    """One session of the submission as the email tells it."""

    title: str
    when: str
    """The session's time label (:func:`shared.mail.templates.session_time`)."""
    confirmed: bool
    position: int | None
    """On the waiting list: the place in line (1 first), when known."""
    join_url: str
    cancel_url: str
    google_url: str = ""
    outlook_url: str = ""


def place(
    *,
    title: str,
    when: str,
    confirmed: bool,
    position: int | None,
    join_url: str,
    cancel_url: str,
    session: Session | None = None,
    details: str = "",
) -> Place:
    """A :class:`Place`; with ``session`` (a confirmed place's) its add-to-calendar links."""
    google = outlook = ""
    if confirmed and session is not None:
        google = calendar_links.google(session, details)
        outlook = calendar_links.outlook(session, details)
    return Place(title, when, confirmed, position, join_url, cancel_url, google, outlook)


def submission_status(
    name: str, reference: str, places: Sequence[Place], *, feed: Feed | None
) -> EmailContent:
    """ "Registration confirmed: N sessions" when any place is confirmed, else "Waiting list:
    N sessions"; one block per session, then the invitations, the feed and the reminders."""
    confirmed = sum(p.confirmed for p in places)
    subject = (
        f"Registration confirmed: {len(places)} sessions"
        if confirmed
        else f"Waiting list: {len(places)} sessions"
    )
    blocks: list[Block] = [
        f"Thank you for registering for {len(places)} sessions of the {SERIES}. "
        f"Your registration reference is {reference}.",
    ]
    for item in places:
        blocks += _session(item)
    if confirmed:
        blocks += [
            "The join links are for registered participants only; please do not forward them.",
            f"A calendar invitation for each confirmed session is attached to this email "
            f"({confirmed} .ics file{'s' if confirmed > 1 else ''}, one per session).",
        ]
    if confirmed < len(places):
        blocks.append(
            "If a place becomes available in a fully booked session, we will email you a "
            "confirmation with the join link and a calendar invitation."
        )
    blocks += [
        *feed_block(feed),
        "We will send you a reminder before each session, and the slides and guidance notes "
        "afterwards.",
    ]
    return render_blocks(subject, name, blocks)


def _session(item: Place) -> list[Block]:
    if not item.confirmed:
        line = "Fully booked: you are on the waiting list"
        note = f"{line} (number {item.position})." if item.position else f"{line}."
        return [
            SessionBlock(item.title, item.when, note),
            Links(
                "If you no longer wish to attend:", (("Leave the waiting list", item.cancel_url),)
            ),
        ]
    return [
        SessionBlock(item.title, item.when, "Your place is confirmed."),
        Link("Join the session:", item.join_url, "Join the session"),
        Links(
            "Add it to your calendar, or cancel your place:",
            (
                ("Google Calendar", item.google_url),
                ("Outlook.com", item.outlook_url),
                ("Cancel this registration", item.cancel_url),
            ),
        ),
    ]
