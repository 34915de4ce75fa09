"""A clean stop of ``kbs serve`` (Ctrl-C) finishes the registrations it accepted, or says
exactly which events it dropped when the grace period runs out."""

from __future__ import annotations

import re
import signal
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.utils import getaddresses
from pathlib import Path

import pytest

from tests.conftest import EVENTS
from tests.e2e.support import STOP_SECONDS, Served, kbs, read_eml, register, serve, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SESSION = "kbs-01-ict-hardware"  # 300 places: every registrant is booked and confirmed


def _register_quickly(served: Served, count: int) -> list[str]:
    """``count`` registrations posted 8 at a time; the addresses, each answered 202."""
    imported = kbs(
        "sessions", "import", str(EVENTS / "programme.sample.json"), "--local", str(served.data_dir)
    )
    assert imported.returncode == 0, imported.stderr
    addresses = [f"drain-{n}@example.se" for n in range(count)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda address: register(served.api_url, address, [SESSION]), addresses))
    return addresses


def _said(served: Served) -> str:
    """What the server said so far: its lines of ``kbs serve:`` (the handlers' log aside)."""
    lines = served.stdout.read_text().splitlines()
    return "\n".join(line for line in lines if line.startswith("kbs serve:"))


def _interrupt(
    served: Served, while_draining: Callable[[], None] = lambda: None
) -> tuple[int, str]:
    """SIGINT now; once the server says it is finishing the queued events, ``while_draining``;
    then wait for the exit. Its code and what it said."""
    served.process.send_signal(signal.SIGINT)
    try:
        wait_for(
            lambda: "stopping: finishing" in _said(served) or served.process.poll() is not None
        )
        while_draining()
        code = served.process.wait(timeout=STOP_SECONDS)
    except BaseException:
        served.process.kill()
        raise
    return code, _said(served)


def _emailed(data_dir: Path) -> Counter[str]:
    """Emails in the outbox by recipient address."""
    return Counter(
        address
        for path in (data_dir / "outbox").glob("*.eml")
        for _, address in getaddresses([str(read_eml(path)["To"])])
    )


def test_ctrl_c_right_after_the_last_202_still_confirms_every_registration(
    tmp_path: Path,
) -> None:
    # Given a stack that just answered 202 to 20 registrations
    served = serve(tmp_path / "data")
    refused: list[BaseException] = []

    def new_request() -> None:
        with pytest.raises(urllib.error.URLError) as error:
            urllib.request.urlopen(f"{served.api_url}/sessions", timeout=5)
        refused.append(error.value)

    try:
        addresses = _register_quickly(served, 20)
    finally:
        # When it gets Ctrl-C right after the last 202
        code, said = _interrupt(served, new_request)

    # Then it refused new requests, finished the queued work before stopping, and said so
    assert code == 0, said
    assert refused, said
    emailed = _emailed(served.data_dir)
    assert [a for a in addresses if not emailed[a]] == [], said
    finished = re.search(r"kbs serve: stopped: finished (\d+) events? in [\d.]+ s", said)
    assert finished, said
    assert "not processed" not in said
    assert 0 < int(finished.group(1)) <= len(addresses)
    assert not (served.data_dir / "local.json").exists()


def test_a_stop_past_the_grace_period_says_exactly_what_it_dropped(tmp_path: Path) -> None:
    # Given a stack with no grace period that just answered 202 to 60 registrations
    served = serve(tmp_path / "data", "--grace", "0")
    try:
        addresses = _register_quickly(served, 60)
    finally:
        # When it gets Ctrl-C right after the last 202
        code, said = _interrupt(served)

    # Then it says how many events it dropped, of which kind: one per registrant not emailed
    # (the batches the pollers held were finished)
    assert code == 0, said
    dropped = re.search(
        r"kbs serve: stopped: (\d+) accepted events? (?:was|were) not processed \(([^)]*)\)", said
    )
    assert dropped, said
    kinds = dict(part.split(": ") for part in dropped.group(2).split(", "))
    assert sum(int(n) for n in kinds.values()) == int(dropped.group(1)) > 0
    emailed = _emailed(served.data_dir)
    assert kinds == {"Registration Submitted": str(sum(not emailed[a] for a in addresses))}
    assert re.search(r"stopping: finishing \d+ accepted events? \(at most 0 s; Ctrl-C again", said)
    assert "the grace period (0 s) ran out." in said


def test_a_second_ctrl_c_stops_at_once_and_says_what_it_dropped(tmp_path: Path) -> None:
    # Given a stack that just answered 202 to 60 registrations
    served = serve(tmp_path / "data")
    try:
        addresses = _register_quickly(served, 60)
    finally:
        # When it gets Ctrl-C right after the last 202, and again while it finishes them
        code, said = _interrupt(served, lambda: served.process.send_signal(signal.SIGINT))

    # Then it stopped without finishing them, and said which events it dropped
    assert code == 0, said
    dropped = re.search(r"stopped: (\d+) accepted events? (?:was|were) not processed", said)
    assert dropped, said
    assert "stopped at once on a second signal." in said
    emailed = _emailed(served.data_dir)
    missing = sum(not emailed[a] for a in addresses)
    assert f"(Registration Submitted: {missing})" in said
    assert int(dropped.group(1)) == missing > 0
