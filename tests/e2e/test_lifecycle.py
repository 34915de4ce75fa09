"""``kbs serve`` starts on loopback, refuses a live data dir, and stops cleanly on a signal."""

from __future__ import annotations

import re
import signal
import stat
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import EVENTS
from tests.e2e.support import http, kbs, read_eml, register, serve, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_a_live_data_dir_is_refused_and_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = serve(data_dir)
    port = str(urlsplit(first.api_url).port)
    try:
        second = kbs("serve", "--port", "0", "--data-dir", str(data_dir))
        same_port = kbs("serve", "--port", port, "--data-dir", str(tmp_path / "other"))
        still_serving = http("GET", f"{first.api_url}/sessions").status
    finally:
        exit_code = first.stop(signal.SIGINT)

    assert second.returncode == 1
    assert "already running" in second.stderr
    assert f"pid {first.info['pid']}" in second.stderr
    assert same_port.returncode == 1
    assert f"port {port} is in use" in same_port.stderr
    assert still_serving == 200
    assert exit_code == 0
    assert not (data_dir / "local.json").exists()
    assert "in memory" in first.stdout.read_text()
    assert "stopped" in first.stdout.read_text()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{first.api_url}/sessions", timeout=5)


def test_both_servers_listen_on_loopback_only_and_the_clock_can_be_simulated(
    tmp_path: Path,
) -> None:
    served = serve(tmp_path / "data", "--clock", "2026-03-02T10:00:00+01:00")
    try:
        hosts = {urlsplit(served.info[key]).hostname for key in ("api_url", "aws_endpoint_url")}
    finally:
        exit_code = served.stop(signal.SIGTERM)

    assert exit_code == 0
    assert hosts == {"127.0.0.1"}
    assert served.info["clock"] == "2026-03-02T09:00:00Z"
    assert "simulated, at 2026-03-02T09:00:00Z" in served.stdout.read_text()


def test_after_a_stop_the_next_start_is_fresh(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = serve(data_dir)
    imported = kbs("sessions", "import", "events/programme.sample.json", "--local", str(data_dir))
    first.stop()

    again = serve(data_dir)
    try:
        sessions = http("GET", f"{again.api_url}/sessions").json()
    finally:
        again.stop()

    assert imported.returncode == 0, imported.stderr
    assert sessions == []


def test_a_bad_clock_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = kbs("serve", "--clock", "tomorrow", "--data-dir", str(tmp_path / "data"))

    assert result.returncode == 2
    assert "not an ISO 8601 time" in result.stderr
    assert not (tmp_path / "data").exists()


def test_commands_say_when_no_stack_is_running(tmp_path: Path) -> None:
    tick = kbs("tick", "--at", "2026-03-02T09:00:00Z", "--local", str(tmp_path))
    invoke = kbs("invoke", "api", "events/api/get-sessions.json", "--local", str(tmp_path))

    for result in (tick, invoke):
        assert result.returncode == 2
        assert "no local stack" in result.stderr


def test_a_restart_after_kill_9_says_so_and_old_links_still_verify_as_genuine(
    tmp_path: Path,
) -> None:
    # Given a stack that sent a confirmation (with its cancel link), then was killed
    data_dir = tmp_path / "data"
    first = serve(data_dir)
    try:
        imported = kbs(
            "sessions", "import", str(EVENTS / "programme.sample.json"), "--local", str(data_dir)
        )
        assert imported.returncode == 0, imported.stderr
        session = http("GET", f"{first.api_url}/sessions").json()[0]
        register(first.api_url, "zoe@example.se", [session["session_id"]])
        (sent,) = wait_for(lambda: list((data_dir / "outbox").glob("*.eml")), timeout=30)
    finally:
        first.process.kill()  # SIGKILL: nothing is cleaned up
        first.process.wait(timeout=30)
    body = read_eml(sent).get_body(preferencelist=("plain",))
    assert body is not None
    (link,) = re.findall(
        r"http://127\.0\.0\.1:\d+(/registrations/cancel\?token=\S+)", str(body.get_content())
    )

    # When it is started again on the same data dir
    again = serve(data_dir)
    try:
        page = http("GET", f"{again.api_url}{link}", headers={"Accept": "text/html"})
        forged = http("GET", f"{again.api_url}{link[:-3]}AAA", headers={"Accept": "text/html"})
        sessions = http("GET", f"{again.api_url}/sessions").json()
    finally:
        again.stop()

    # Then it says what was lost, the old link is genuine but its booking is not held here,
    # and the old emails are set aside
    said = again.stdout.read_text()
    assert f"(pid {first.info['pid']}" in said and "did not stop cleanly" in said
    assert "in memory" in said and "registrations" in said and "not yet processed" in said
    assert page.status == 404, page.body[:300]
    assert "Registration not found" in page.body.decode()
    assert "No current registration matches this link" in page.body.decode()
    assert forged.status == 403 and "This link is not valid" in forged.body.decode()
    assert sessions == []
    (previous,) = data_dir.glob("outbox.previous-*")
    assert [p.name for p in previous.glob("*.eml")] == [sent.name]
    assert not list((data_dir / "outbox").glob("*.eml"))
    assert stat.S_IMODE((data_dir / "link-signing.key").stat().st_mode) == 0o600


def test_a_clean_restart_says_nothing_of_a_crash_keeps_the_key_and_sets_old_mail_aside(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    first = serve(data_dir)
    first.stop()
    key = (data_dir / "link-signing.key").read_text()
    old = data_dir / "outbox" / "20261201T090000Z-confirmation-abc.eml"
    old.write_bytes(b"Subject: from the first run\r\n\r\nHello\r\n")

    again = serve(data_dir)
    again.stop()

    said = again.stdout.read_text()
    assert "did not stop cleanly" not in said
    assert (data_dir / "link-signing.key").read_text() == key
    (previous,) = data_dir.glob("outbox.previous-*")
    assert f"the previous run's emails were moved to {previous}" in said
    assert [p.name for p in previous.iterdir()] == [old.name]
    assert not list((data_dir / "outbox").glob("*.eml"))  # the new run's outbox is its own
