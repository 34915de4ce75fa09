"""End to end on ``kbs serve``: an attendance import issues certificates by email; the PDF, the
public verification, revocation, "My record" and its transcript, all over HTTP.

kbs attendance import --> "Attendance Recorded" --> certificates fn --> outbox (.eml) and the
bucket; GET /certificates/{number}[/download], GET /record[/transcript] --> certificate_pages fn.
"""

from __future__ import annotations

import io
import re
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from kbs.local.outbox import POLL_SECONDS
from tests.conftest import EVENTS
from tests.e2e import support
from tests.e2e.support import Served, http, kbs, read_eml, wait_for
from tests.e2e.test_materials import _NoRedirect

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

ANNA, ANNA_NAME = "anna.lodz@authority.example.eu", "Łucja Őrs-Șerban Muñoz Öberg"
BERT, BERT_NAME = "bert.brief@authority.example.eu", "Bert Brief"
HTML = {"Accept": "text/html"}


def outbox(stack: Served, kind: str) -> list[EmailMessage]:
    found = [read_eml(p) for p in sorted((stack.data_dir / "outbox").glob("*.eml"))]
    return [m for m in found if kind in str(m.get("X-KBS-Kind", ""))]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def first_hop(url: str) -> tuple[int, Any]:
    """The status and headers of ``url`` itself (redirects not followed)."""
    try:
        with urllib.request.build_opener(_NoRedirect).open(url, timeout=30) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def pdf_words(url: str) -> str:
    from pypdf import PdfReader

    status, headers = first_hop(url)
    assert status == 302, status
    document = http("GET", headers["Location"])
    assert document.status == 200 and document.body.startswith(b"%PDF")
    pages = PdfReader(io.BytesIO(document.body)).pages
    return " ".join(" ".join(p.extract_text() for p in pages).split())


def test_import_certificate_email_pdf_verification_revocation_and_record(
    stack: Served, tmp_path: Path
) -> None:
    local = ("--local", str(stack.data_dir))
    imported = kbs("sessions", "import", str(EVENTS / "programme.sample.json"), *local)
    assert imported.returncode == 0, imported.stderr
    first = http("GET", f"{stack.api_url}/sessions").json()[0]
    session_id, title = first["session_id"], first["title"]
    support.register(stack.api_url, ANNA, [session_id], name=ANNA_NAME)
    support.register(stack.api_url, BERT, [session_id], name=BERT_NAME)
    wait_for(lambda: len(outbox(stack, "confirmation")) == 2, timeout=60, what="confirmations")
    ticked = kbs("tick", "--session", session_id, "--at=+100m", *local)
    assert ticked.returncode == 0, ticked.stderr

    # When the organiser imports the attendance: Anna stayed 85 minutes, Bert 20.
    report = tmp_path / "attendance.csv"
    report.write_text(f"email,minutes\n{ANNA.upper()},85\n{BERT},20\n", encoding="utf-8")
    run = kbs("attendance", "import", session_id, str(report), *local)
    assert run.returncode == 0, run.stderr

    # Then Anna alone gets her certificate, by email, with her name as registered in the PDF.
    (email,) = wait_for(lambda: outbox(stack, "certificate"), timeout=60, what="certificate")
    assert email["To"].addresses[0].addr_spec == ANNA
    body = text_of(email)
    (download,) = re.findall(r"http://\S+/certificates/\S+/download\?token=\S+", body)
    (verify,) = re.findall(r"http://\S+/certificates/[A-Z2-7-]{19}(?=\s)", body)
    number = verify.rsplit("/", 1)[1]
    words = pdf_words(download)
    assert ANNA_NAME in words and title in words and number in words
    assert "Minutes attended: 85" in words and "CPD hours: 1.25" in words

    page = http("GET", verify, headers=HTML)
    assert page.status == 200 and "Valid." in page.body.decode() and ANNA_NAME in page.body.decode()
    assert http("GET", verify).json()["status"] == "valid"
    assert http("GET", verify[:-4] + "AAAA").status == 404

    # A re-import of the same file sends nothing twice.
    again = kbs("attendance", "import", session_id, str(report), *local)
    assert again.returncode == 0, again.stderr
    time.sleep(3 * POLL_SECONDS)
    assert len(outbox(stack, "certificate")) == 1

    # "My record" (from her confirmation's footer) lists the session; so does the transcript.
    (confirmation,) = [m for m in outbox(stack, "confirmation") if ANNA in str(m["To"])]
    (record_url,) = re.findall(r"http://\S+/record\?token=\S+", text_of(confirmation))
    mine = http("GET", record_url).json()
    assert [a["session_id"] for a in mine["attended"]] == [session_id]
    assert mine["attended"][0]["certificate"] == number and mine["cpd_hours"] == "1.25"
    assert ANNA_NAME in http("GET", record_url, headers=HTML).body.decode()
    status, headers = first_hop(mine["transcript_url"])
    assert status == 302
    transcript_number = headers["X-KBS-Transcript"]
    assert title in pdf_words(mine["transcript_url"])
    covered = http("GET", f"{stack.api_url}/certificates/{transcript_number}").json()
    assert covered["kind"] == "transcript" and [s["title"] for s in covered["sessions"]] == [title]

    # When the organiser revokes it, verification says so.
    revoked = kbs("certificates", "revoke", number, "--reason", "duplicate account", *local)
    assert revoked.returncode == 0, revoked.stderr
    view = http("GET", verify).json()
    assert view["status"] == "revoked" and view["revoked"]["reason"] == "revoked by the organisers"
    assert "Revoked" in http("GET", verify, headers=HTML).body.decode()
    assert first_hop(download)[0] == 403
