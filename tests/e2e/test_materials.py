"""End to end on ``kbs serve``: organisers upload with a plain S3 client; registrants download
the same bytes through the link in their email, and nobody else does.

put_object --> S3 "Object Created" --> default bus --> rule --> queue --> material_processor
--> DynamoDB; kbs tick --> reminders / follow-up / "materials available" --> outbox --> link
--> GET /materials/{id}?token= --> 302 --> presigned GET on moto --> the bytes.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from kbs import sample_files
from kbs.local.server import moto_client
from tests.conftest import EVENTS
from tests.e2e.support import Served, http, kbs, read_eml, register, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PERSON = "zoe.akesson@region.example.se"
LINK = re.compile(r"(https?://\S+/materials/[a-z2-7]{26}\?token=[\w.%-]+)")
SLIDES = "Riskkartläggning \N{EN DASH} IKT (bilder).pdf"


def emails(stack: Served, kind: str) -> list[EmailMessage]:
    return [
        message
        for path in sorted((stack.data_dir / "outbox").glob("*.eml"))
        if (message := read_eml(path))["X-KBS-Kind"] == kind
    ]


def kinds(stack: Served) -> Counter[str]:
    return Counter(
        str(read_eml(p)["X-KBS-Kind"]) for p in (stack.data_dir / "outbox").glob("*.eml")
    )


def links_in(message: EmailMessage) -> list[str]:
    return LINK.findall(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def first_hop(url: str) -> tuple[int, str | None]:
    """The status and ``Location`` of ``url`` itself (redirects not followed)."""
    try:
        with urllib.request.build_opener(_NoRedirect).open(url, timeout=30) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")


def tick(stack: Served, at: datetime) -> None:
    result = kbs("tick", "--at", at.isoformat(), "--local", str(stack.data_dir))
    assert result.returncode == 0, result.stdout + result.stderr


def upload(stack: Served, session_id: str, kind: str, name: str, body: bytes) -> None:
    """What an organiser does with any S3 client: a plain PutObject."""
    s3 = moto_client("s3", stack.info["aws_endpoint_url"], stack.info["region"])
    s3.put_object(
        Bucket=stack.info["bucket"], Key=f"sessions/{session_id}/{kind}/{name}", Body=body
    )


def test_an_uploaded_file_reaches_registrants_only_through_their_links(stack: Served) -> None:
    # Given the programme and one registrant of the first session
    local = ("--local", str(stack.data_dir))
    assert kbs("sessions", "import", str(EVENTS / "programme.sample.json"), *local).returncode == 0
    first = http("GET", f"{stack.api_url}/sessions").json()[0]
    session_id = first["session_id"]
    register(stack.api_url, PERSON, [session_id], name="Zoë Åkesson", country="SE")
    wait_for(lambda: kinds(stack)["confirmation"] == 1, timeout=30, what="the confirmation")

    # When an organiser uploads slides (and a .exe renamed .pdf) with a plain S3 client
    slides = sample_files.pdf("Riskkartlaggning IKT")
    upload(stack, session_id, "slides", SLIDES, slides)
    upload(stack, session_id, "guidance", "notes.pdf", b"MZ\x90\x00" + bytes(100))
    wait_for(lambda: kinds(stack)["material-rejected"] == 1, timeout=30, what="the rejection")
    listed = wait_for(
        lambda: (
            (out := kbs("materials", "list", session_id, *local).stdout)
            and "current" in out
            and out
        ),
        timeout=30,
        what="the material recorded",
    )
    assert "Riskkartläggning \N{EN DASH} IKT (bilder)" in listed and "notes.pdf" in listed
    (rejection,) = emails(stack, "material-rejected")
    assert rejection["To"].addresses[0].addr_spec == "organisers@example.org"

    # And the clock reaches the reminder, one day before
    start = datetime.fromisoformat(first["start"])
    tick(stack, start - timedelta(hours=24))
    (reminder,) = wait_for(lambda: emails(stack, "reminder-24h"), timeout=30, what="the reminder")

    # Then its link redirects to a short-lived URL that serves the very bytes uploaded
    (link,) = links_in(reminder)
    status, location = first_hop(link)
    assert status == 302 and location
    assert "X-Amz-Expires=300" in location and "versionId=" in location
    downloaded = http("GET", link)  # follows the redirect to moto
    assert downloaded.status == 200
    assert downloaded.body == slides
    assert "filename*=UTF-8''" in downloaded.headers["Content-Disposition"]

    # And a tampered link, or none, opens nothing
    url, _, token = link.partition("?token=")
    payload, _, signature = urllib.parse.unquote(token).partition(".")
    for refused in (url, f"{url}?token={payload}.{signature[::-1]}", f"{url}?token={token[:-3]}"):
        assert first_hop(refused) == (403, None), refused
    listing = http("GET", f"{stack.api_url}/sessions/{session_id}/materials?token={token}")
    assert listing.status == 200 and listing.json()["materials"][0]["file_name"] == SLIDES

    # When the session ends, and a guidance note comes a little later
    end = start + timedelta(minutes=first["duration_minutes"])
    tick(stack, end)
    (follow_up,) = wait_for(lambda: emails(stack, "follow-up"), timeout=30, what="the follow-up")
    assert len(links_in(follow_up)) == 1
    upload(stack, session_id, "guidance", "Checklista för inköpare.odt", sample_files.odt())
    wait_for(
        lambda: "Checklista" in kbs("materials", "list", session_id, *local).stdout,
        timeout=30,
        what="the guidance note recorded",
    )
    tick(stack, end + timedelta(days=1))

    # Then one "materials available" email lists both, each link serving its file
    (announced,) = wait_for(lambda: emails(stack, "materials"), timeout=30, what="the announcement")
    bodies = {http("GET", link).body for link in links_in(announced)}
    assert bodies == {slides, sample_files.odt()}
    assert kinds(stack)["materials"] == 1
