"""``make demo``: the whole programme on one machine, within 75 s once installed.

Starts the local stack, imports the sample programme, has 200 public buyers submit the
registration form over HTTP (a few bad posts and duplicates among them, one workshop filled
past capacity), waits until every email is delivered to the outbox; the organiser uploads the
first session's slides and guidance note (and a mistake) with a plain S3 client; then it ticks
the local clock through that session's day (T-24h, T-1h, start, end: reminders listing the
materials, "we are live", follow-up), uploads two more files after it ("materials available",
one email each), follows some download links, and prints a summary. Along the way one
registrant unsubscribes with their mail program's one-click button (every later notice skips
them) and another exports their data through the "your data" link.

This module runs the phases and prints the summary and the time of each phase; the phases
are in :mod:`kbs.demo_registration`, :mod:`kbs.demo_session` and :mod:`kbs.demo_attendance`.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from kbs.demo_attendance import certify
from kbs.demo_registration import REGISTRANTS, submit_all
from kbs.demo_session import (
    AFTER,
    BEFORE,
    confirmations,
    email_kinds,
    export_by_link,
    one_click_unsubscribe,
    say,
    session_day,
    tick,
    try_downloads,
    upload_materials,
    wait_for_materials,
    wait_for_outbox,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PROGRAMME = ROOT / "events" / "programme.sample.json"


class Phases:
    """Wall time of each phase of the demo (seconds), printed at the end: the budget is 75 s."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.times[name] = now - self._last
        self._last = now

    def report(self) -> None:
        say("Time by phase")
        for name, seconds in self.times.items():
            _row(name, f"{seconds:5.1f} s")


def _row(label: str, value: object) -> None:
    say(f"  {label:<28} {value}")


@contextmanager
def local_stack(data_dir: Path, port: int) -> Iterator[dict[str, str]]:
    """Run ``kbs serve`` in a subprocess until the block ends; yield its local.json."""
    info_path = data_dir / "local.json"
    shutil.rmtree(data_dir / "outbox", ignore_errors=True)  # the demo counts its own emails
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "kbs.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    log = (data_dir / "serve.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while not info_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"kbs serve did not start; see {data_dir / 'serve.log'}")
            time.sleep(0.1)
        yield json.loads(info_path.read_text())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _kbs(*args: str) -> str:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "kbs.cli", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout


def run(data_dir: Path, port: int) -> int:
    started = time.monotonic()
    phases = Phases()
    rng = random.Random(2026)
    say(f"Starting the local stack (data in {data_dir}) ...")
    with local_stack(data_dir, port) as info:
        api_url = info["api_url"]
        say(f"  API {api_url}  AWS endpoint {info['aws_endpoint_url']}")
        phases.done("start the local stack")
        say("Importing the SAMPLE programme (relative dates) ...")
        _kbs("sessions", "import", str(SAMPLE_PROGRAMME), "--local", str(data_dir))
        session_ids = [
            s["session_id"] for s in json.loads(SAMPLE_PROGRAMME.read_text())["sessions"]
        ]
        phases.done("import the programme")
        say(f"Submitting {REGISTRANTS} registration forms over HTTP ...")
        tally = submit_all(api_url, session_ids, rng)
        say("Waiting for the registration processor to confirm and email everyone ...")
        # one email per accepted submission (all its sessions), and the resent details
        files = wait_for_outbox(data_dir / "outbox", tally.accepted + tally.resent)
        first = json.loads(urllib.request.urlopen(f"{api_url}/sessions").read())[0]  # noqa: S310
        registered = sum(session == first["session_id"] for _, session in tally.expected_bookings)
        phases.done("register and confirm")
        say("The organiser uploads slides, a guidance note and a mistake (S3 PutObject) ...")
        upload_materials(info, first["session_id"], BEFORE)
        files = wait_for_outbox(data_dir / "outbox", len(files) + 1)  # organisers told why
        wait_for_materials(data_dir, first["session_id"], 2)
        mine = confirmations(files, str(first["title"]))
        phases.done("upload materials")
        say("One registrant clicks their mail program's Unsubscribe button (RFC 8058) ...")
        unsubscribed = one_click_unsubscribe(mine[0])
        exported = export_by_link(api_url, mine[1])
        addressed = registered - 1  # every notice from now on skips the unsubscribed one
        phases.done("unsubscribe and export")
        say(f"Ticking the clock through {first['session_id']} ({registered} registered) ...")
        files = session_day(api_url, first, addressed, data_dir / "outbox", len(files))
        phases.done("the session's day")
        say("After the session: two more files within minutes, then one email each ...")
        upload_materials(info, first["session_id"], AFTER)
        wait_for_materials(data_dir, first["session_id"], 4)
        end = datetime.fromisoformat(first["start"]) + timedelta(minutes=first["duration_minutes"])
        tick(api_url, end + timedelta(minutes=30))
        files = wait_for_outbox(data_dir / "outbox", len(files) + addressed)
        phases.done("late uploads announced")
        downloads, tampered = try_downloads(files, {*BEFORE.values(), *AFTER.values()})
        phases.done("downloads")
        say("The organiser imports the Zoom attendee report; certificates go out ...")
        attendees = sorted(e for e, s in tally.expected_bookings if s == first["session_id"])
        certified = certify(api_url, data_dir, first, attendees, _kbs)
        files = sorted((data_dir / "outbox").glob("*.eml"))  # with the certificates
        phases.done("attendance and certificates")
        expected = tally.accepted + tally.resent + 4 * addressed + 1 + addressed
        expected += len(attendees) - 2  # a certificate each, but the short stay and no-show
        programme = _kbs("sessions", "list", "--local", str(data_dir))
        dead_letters = _kbs("dlq", "list", "--local", str(data_dir))
    phases.done("listings and stop")
    kinds = email_kinds(files)
    say("")
    say(programme.rstrip())
    say("")
    say("Summary")
    _row("registrations accepted", tally.accepted)
    _row("bookings (person, session)", len(tally.expected_bookings))
    _row(
        "repeated submissions",
        f"{tally.duplicates_sent} (no second booking; details resent: {tally.resent} emails)",
    )
    _row("emails sent", len(files))
    for kind, count in sorted(kinds.items()):
        say(f"    {kind:<24} {count}")
    _row("rejected", sum(tally.rejected.values()))
    for reason, count in sorted(tally.rejected.items()):
        say(f"    {count} x {reason}")
    _row("materials uploaded", f"{len(BEFORE) + len(AFTER) - 1} accepted, 1 quarantined")
    _row("downloads by email link", f"{downloads} served the uploaded bytes; tampered: {tampered}")
    _row("one-click unsubscribe", f"HTTP {unsubscribed}; skipped by every later notice")
    _row("data export by link", f"{exported} registration(s) listed")
    _row("attendance (Zoom report)", _attendance_line(certified.summary))
    _row("certificates emailed", f"{certified.certificates} of {len(attendees) - 2} attendees")
    _row("one verified over HTTP", certified.verified.get("status", "not verified"))
    _row("dead letters", _dead_letters(dead_letters))
    _row("outbox", data_dir / "outbox")
    phases.report()
    say(f"Done in {time.monotonic() - started:.1f} s")
    checks = {
        f"emails sent ({len(files)}) = expected ({expected})": len(files) == expected,
        "every qualifying attendee got a certificate": certified.certificates == len(attendees) - 2,
        "the certificate verified as valid": certified.verified.get("status") == "valid",
    }
    for check, passed in checks.items():
        if not passed:
            say(f"DEMO CHECK FAILED: {check}")
    return 0 if all(checks.values()) else 1


def _attendance_line(summary: str) -> str:
    """The import's closing count line (matched, under threshold, no-shows, unmatched)."""
    lines = [line.strip() for line in summary.splitlines() if line.strip()]
    return lines[-1] if lines else "-"


def _dead_letters(listing: str) -> str:
    """The total of the MESSAGES column of ``kbs dlq list``."""
    rows = [line.split() for line in listing.splitlines()[1:] if line.strip()]
    return f"{sum(int(row[2]) for row in rows)} in {len(rows)} dead-letter queues"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=".kbs/demo", type=Path)
    parser.add_argument("--port", default=0, type=int, help="API port (default 0: any free)")
    args = parser.parse_args()
    return run(args.data_dir, args.port)


if __name__ == "__main__":
    sys.exit(main())
