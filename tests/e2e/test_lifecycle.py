"""``kbs serve`` starts on loopback, refuses a live data dir, and stops cleanly on a signal."""

from __future__ import annotations

import signal
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.support import http, kbs, serve

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
