"""End to end on ``kbs serve``: hostile form posts (issue 12, items 1 and 2) and the caps, which
the local stack leaves off for 127.0.0.1 unless started with ``--cap-loopback``."""

from __future__ import annotations

import time
import urllib.parse
from pathlib import Path

import pytest

from kbs.local.outbox import POLL_SECONDS
from tests.conftest import EVENTS
from tests.e2e.support import Reply, Served, http, kbs, read_eml, serve, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

ADDRESS = "target@example.org"
JSON = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


def post(stack: Served, session_id: str, **changes: str) -> Reply:
    fields = {
        "full_name": "Buyer (test)",
        "email": ADDRESS,
        "organisation": "Sample authority (test)",
        "country": "IE",
        "sessions": session_id,
        "consent": "on",
    } | changes
    body = urllib.parse.urlencode(fields).encode()
    return http("POST", f"{stack.api_url}/registrations", body, JSON)


def open_sessions(stack: Served) -> list[str]:
    imported = kbs(
        "sessions", "import", str(EVENTS / "programme.sample.json"), "--local", str(stack.data_dir)
    )
    assert imported.returncode == 0, imported.stderr
    return [s["session_id"] for s in http("GET", f"{stack.api_url}/sessions").json()]


def emails_to(stack: Served, address: str) -> list[str]:
    kinds = []
    for path in sorted((stack.data_dir / "outbox").glob("*.eml")):
        message = read_eml(path)
        if [a.addr_spec for a in message["To"].addresses] == [address]:
            kinds.append(str(message["X-KBS-Kind"]))
    return kinds


def test_hostile_names_are_refused_and_loopback_is_not_capped_by_default(stack: Served) -> None:
    sessions = open_sessions(stack)
    encoded = post(stack, sessions[0], full_name="=?utf-8?q?Eve=0D=0ABcc=3A_x=40evil.example?=")
    refund = post(
        stack, sessions[0], full_name="Your refund is ready: https://refund.example.net/claim"
    )
    assert (encoded.status, refund.status) == (400, 400)
    assert list(encoded.json()["errors"]) == list(refund.json()["errors"]) == ["full_name"]

    replies = [post(stack, sid) for sid in sessions[:6]]

    assert [r.status for r in replies] == [202] * 6
    wait_for(lambda: len(emails_to(stack, ADDRESS)) == 6, what="six confirmations")


def test_with_cap_loopback_the_sixth_submission_for_an_address_is_a_429(tmp_path: Path) -> None:
    stack = serve(tmp_path / "data", "--cap-loopback")
    try:
        sessions = open_sessions(stack)
        replies = [post(stack, sid) for sid in sessions[:6]]

        assert [r.status for r in replies] == [202] * 5 + [429]
        assert "5 registrations today" in replies[-1].json()["errors"]["email"]
        assert int(replies[-1].headers["Retry-After"]) > 0
        wait_for(lambda: len(emails_to(stack, ADDRESS)) == 5, what="five confirmations")
        time.sleep(3 * POLL_SECONDS)  # and no sixth email arrives
        assert emails_to(stack, ADDRESS) == ["confirmation"] * 5
    finally:
        stack.stop()
