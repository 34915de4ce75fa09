"""End to end on ``kbs serve``: export and erasure leave no trace of the person in the stack.

kbs registrants export|erase --local  and  the "your data" link --POST /privacy/erase--> privacy
fn; the table, the outbox's ``.eml`` copies and moto's own memory of the sent mail are searched.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from email.message import EmailMessage
from pathlib import Path

import boto3
import pytest

from kbs.local.outbox import POLL_SECONDS
from tests.conftest import EVENTS
from tests.e2e import support
from tests.e2e.support import Served, http, kbs, read_eml, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

ERIN, ERIN_NAME = "erin.erasmus@authority.example.eu", "Erin Erasmus"
OLAF, OLAF_NAME = "olaf.other@authority.example.eu", "Olaf Otherperson"
FORM = {"Accept": "text/html", "Content-Type": "application/x-www-form-urlencoded"}


def outbox(stack: Served) -> list[EmailMessage]:
    return [read_eml(path) for path in sorted((stack.data_dir / "outbox").glob("*.eml"))]


def recipients(stack: Served) -> list[str]:
    return [str(m["To"].addresses[0].addr_spec) for m in outbox(stack)]


def moto_state(stack: Served) -> str:
    """Every item of the table (a test-only Scan) and the sent mail moto holds, as served by its
    own API (whose SQS section also keeps consumed messages, "Registration Submitted" among
    them: AWS deletes those)."""
    reply = http("GET", f"{stack.info['aws_endpoint_url']}/moto-api/data.json")
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack.info["aws_endpoint_url"],
        region_name=stack.info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    items = dynamodb.scan(TableName=stack.info["table"])["Items"]
    assert items, "the table holds the programme"
    state = [json.loads(reply.body).get("ses"), items]
    return json.dumps(state, ensure_ascii=False).lower()


def register(stack: Served, name: str, email: str, sessions: list[str]) -> None:
    support.register(stack.api_url, email, sessions, name=name)


def test_export_then_erase_by_command_and_by_link_leave_no_trace(
    stack: Served, tmp_path: Path
) -> None:
    data_dir = str(stack.data_dir)
    imported = kbs("sessions", "import", str(EVENTS / "programme.sample.json"), "--local", data_dir)
    assert imported.returncode == 0, imported.stderr
    first, second = (s["session_id"] for s in http("GET", f"{stack.api_url}/sessions").json()[:2])
    register(stack, ERIN_NAME, ERIN, [first, second])
    register(stack, OLAF_NAME, OLAF, [first])
    # one confirmation per submission: Erin's lists both her sessions
    wait_for(lambda: len(outbox(stack)) == 2, timeout=60, what="two confirmations")
    assert recipients(stack).count(ERIN) == 1

    # When an organiser exports Erin's data, the file lists both registrations.
    out = tmp_path / "erin.json"
    exported = kbs("registrants", "export", ERIN.upper(), "--out", str(out), "--local", data_dir)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(out.read_text())
    assert sorted(r["session_id"] for r in data["registrations"]) == sorted([first, second])
    assert {r["full_name"] for r in data["registrations"]} == {ERIN_NAME}

    # And erases it: then no copy of her emails is left, nor anything in moto's memory.
    erased = kbs("registrants", "erase", ERIN, "--local", data_dir)
    assert erased.returncode == 0, erased.stderr
    assert "erased: 2 registration(s)" in erased.stdout
    # Her confirmation, and any of the two calendar CANCELs (sent before her address went)
    # the outbox had written by then; the rest it never writes.
    assert re.search(r", [123] outbox cop", erased.stdout), erased.stdout
    assert recipients(stack) == [OLAF]
    wait_for(
        lambda: ERIN not in moto_state(stack) and ERIN_NAME.lower() not in moto_state(stack),
        timeout=10,
        what="moto's memory of her mail dropped",
    )
    time.sleep(3 * POLL_SECONDS)
    assert recipients(stack) == [OLAF]  # never written again
    again = kbs("registrants", "erase", ERIN, "--local", data_dir)
    assert again.returncode == 0 and "nothing found" in again.stdout

    # When Olaf erases his own data from the "your data" link in his email.
    (confirmation,) = outbox(stack)
    body = confirmation.get_body(preferencelist=("plain",))
    assert body is not None
    (link,) = re.findall(r"http://127\.0\.0\.1:\d+/privacy\?token=\S+", str(body.get_content()))
    page = http("GET", link, headers={"Accept": "text/html"})
    assert page.status == 200 and 'action="privacy/erase"' in page.body.decode()
    (token,) = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["token"]
    action = urllib.parse.urljoin(link, "privacy/erase")
    done = http("POST", action, urllib.parse.urlencode({"token": token}).encode(), FORM)
    assert done.status == 200 and "Your data has been erased" in done.body.decode()

    # Then the stack holds no trace of either.
    assert outbox(stack) == []
    wait_for(
        lambda: all(trace not in moto_state(stack) for trace in (OLAF, OLAF_NAME.lower())),
        timeout=10,
        what="moto's memory of his mail dropped",
    )
    state = moto_state(stack)
    assert ERIN not in state and ERIN_NAME.lower() not in state
