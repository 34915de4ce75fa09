"""``make demo``'s last stage: the first session's Zoom attendee report, certificates, a check.

The report is made like the one Zoom lets organisers download after a webinar (summary
sections, then one row per join): most registrants stay throughout, one reconnects (two rows),
one leaves after half an hour (under the threshold), one registered person never comes (a
no-show) and a guest who never registered joins (an unmatched row).
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import re
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ZOOM_TIME = "%m/%d/%Y %I:%M:%S %p"
GUEST = "walk-in.guest@example.net"
_NUMBER = re.compile(r"/certificates/([A-Z0-9]{4}(?:-[A-Z0-9]{4}){3})\b")


@dataclass(frozen=True)
class Certified:
    """What the stage did: the import's summary lines, certificates emailed, one verified."""

    summary: str
    certificates: int
    verified: dict[str, object]


def zoom_report(session: dict[str, object], attendees: list[str]) -> str:
    """A Zoom webinar attendee report (CSV) for ``session`` (``GET /sessions`` item) in which
    ``attendees[0]`` reconnects, ``attendees[1]`` stays 30 minutes, ``attendees[2]`` never
    comes, the rest stay throughout, and a guest who never registered joins."""
    zone = ZoneInfo(str(session["timezone"]))
    start = datetime.fromisoformat(str(session["start"])).astimezone(zone)
    end = start + timedelta(minutes=int(str(session["duration_minutes"])))

    def at(moment: datetime) -> str:
        return moment.strftime(ZOOM_TIME)

    def row(address: str, joined: datetime, left: datetime) -> list[str]:
        name = address.split("@")[0].replace(".", " ").title()
        minutes = str(round((left - joined).total_seconds() / 60))
        first, _, last = name.partition(" ")
        registered = at(start - timedelta(days=5))
        times = [at(joined), at(left), minutes]
        return ["Yes", name, first, last, address, registered, "approved", *times, "Yes", ""]

    rows = [
        row(attendees[0], start - timedelta(minutes=3), start + timedelta(minutes=40)),
        row(attendees[0], start + timedelta(minutes=43), end),
        row(attendees[1], start, start + timedelta(minutes=30)),
        *(row(a, start - timedelta(minutes=2), end + timedelta(minutes=1)) for a in attendees[3:]),
        row(GUEST, start + timedelta(minutes=5), end),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(
        [
            ["Attendee Report"],
            ["Report Generated:", at(end + timedelta(minutes=30))],
            ["Topic", "Webinar ID", "Actual Start Time", "Actual Duration (minutes)"],
            [str(session["title"]), "'812 0000 0001", at(start), str(session["duration_minutes"])],
            ["Attendee Details"],
            [
                "Attended",
                "User Name (Original Name)",
                "First Name",
                "Last Name",
                "Email",
                "Registration Time",
                "Approval Status",
                "Join Time",
                "Leave Time",
                "Time in Session (minutes)",
                "Is Guest",
                "Country/Region Name",
            ],
            *rows,
        ]
    )
    return out.getvalue()


def certify(
    api_url: str,
    data_dir: Path,
    session: dict[str, object],
    attendees: list[str],
    kbs: Callable[..., str],
    timeout: float = 60,
) -> Certified:
    """Import the report with ``kbs attendance import``, wait for the certificate emails (all
    but the short stay and the no-show), and verify one at ``GET /certificates/{number}``."""
    report = data_dir / "zoom-attendee-report.csv"
    report.write_text(zoom_report(session, attendees), encoding="utf-8")
    summary = kbs(
        "attendance", "import", str(session["session_id"]), str(report), "--local", str(data_dir)
    )
    expected = len(attendees) - 2
    deadline = time.monotonic() + timeout
    while True:
        files = sorted((data_dir / "outbox").glob("*-certificate-*.eml"))
        if len(files) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    verified: dict[str, object] = {}
    if files:
        message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        match = _NUMBER.search(text)
        if match:
            request = urllib.request.Request(  # noqa: S310 - loopback URL from local.json
                f"{api_url}/certificates/{match.group(1)}",
                headers={"Accept": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                verified = json.load(response)
    return Certified(summary=summary, certificates=len(files), verified=verified)
