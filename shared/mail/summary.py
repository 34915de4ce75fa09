"""The one status email of a submission for several sessions: each session with its place
(confirmed, or number N on the waiting list) and its own links (join, add to calendar,
cancel), then the registrant's calendar feed. Laid out like every email
(:mod:`shared.mail.blocks`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.mail import calendar_links
from shared.mail.blocks import Block, EmailContent, Feed, Link, Links, Say, SessionBlock, feed_block
from shared.mail.registrant import render
from shared.mail.registrant import speaker as registration_speaker
from shared.programme.models import Session
from shared.registrations.models import Registration


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
    """A :class:`Place`; with ``session`` (a confirmed place's) its add-to-calendar links,
    named ``title``."""
    google = outlook = ""
    if confirmed and session is not None:
        google = calendar_links.google(session, details, title)
        outlook = calendar_links.outlook(session, details, title)
    return Place(title, when, confirmed, position, join_url, cancel_url, google, outlook)


def submission_status(
    registration: Registration, reference: str, places: Sequence[Place], *, feed: Feed | None
) -> EmailContent:
    """ "Registration confirmed: N sessions" when any place is confirmed, else "Waiting list:
    N sessions"; one block per session, then the invitations, the feed and the reminders, in
    ``registration``'s language (the submission's first place: its name and language are the
    submission's) with the submission's ``reference``."""
    _ = registration_speaker(registration)
    count = str(len(places))
    confirmed = sum(p.confirmed for p in places)
    subject = (
        _("Registration confirmed: %(count)s sessions", count=count)
        if confirmed
        else _("Waiting list: %(count)s sessions", count=count)
    )
    blocks: list[Block] = [
        _(
            "Thank you for registering for %(count)s sessions of the %(series)s. "
            "Your registration reference is %(reference)s.",
            count=count,
            reference=reference,
        ),
    ]
    for item in places:
        blocks += _session(item, _)
    if confirmed:
        blocks += [
            _("The join links are for registered participants only; please do not forward them."),
            _(
                "A calendar invitation for each confirmed session is attached to this email "
                "(%(count)s .ics files, one per session).",
                count=str(confirmed),
            )
            if confirmed > 1
            else _("A calendar invitation for the confirmed session is attached to this email."),
        ]
    if confirmed < len(places):
        blocks.append(
            _(
                "If a place becomes available in a fully booked session, we will email you a "
                "confirmation with the join link and a calendar invitation."
            )
        )
    blocks += [
        *feed_block(feed, _),
        _(
            "We will send you a reminder before each session, and the slides and guidance notes "
            "afterwards."
        ),
    ]
    return render(registration, subject, blocks)


def _session(item: Place, _: Say) -> list[Block]:
    if not item.confirmed:
        note = (
            _(
                "Fully booked: you are on the waiting list (number %(position)s).",
                position=str(item.position),
            )
            if item.position
            else _("Fully booked: you are on the waiting list.")
        )
        return [
            SessionBlock(item.title, item.when, note),
            Links(
                _("If you no longer wish to attend:"),
                ((_("Leave the waiting list"), item.cancel_url),),
            ),
        ]
    return [
        SessionBlock(item.title, item.when, _("Your place is confirmed.")),
        Link(_("Join the session:"), item.join_url, _("Join the session")),
        Links(
            _("Add it to your calendar, or cancel your place:"),
            (
                ("Google Calendar", item.google_url),
                ("Outlook.com", item.outlook_url),
                (_("Cancel this registration"), item.cancel_url),
            ),
        ),
    ]
