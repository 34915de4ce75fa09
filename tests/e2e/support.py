"""Helpers for the end-to-end tests: a ``kbs serve`` subprocess, HTTP over loopback, waiting."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

from tests.conftest import ROOT

T = TypeVar("T")
START_SECONDS = 60
STOP_SECONDS = 90  # the default grace period of a clean stop (30 s), then moto's stop


def wait_for(check: Callable[[], T], timeout: float = 15, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One HTTP request; any status is a reply, not an exception."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read())


def register(
    api_url: str,
    email: str,
    sessions: list[str],
    *,
    name: str = "Buyer (test)",
    country: str = "IE",
    language: str = "",
) -> None:
    """A registration form posted as a browser does (urlencoded); asserts it was accepted."""
    form = {
        "full_name": name,
        "email": email,
        "organisation": "Sample authority (test)",
        "country": country,
        "sessions": sessions,
        "consent": "on",
        "website": "",
    } | ({"language": language} if language else {})
    reply = http(
        "POST",
        f"{api_url}/registrations",
        urllib.parse.urlencode(form, doseq=True).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    assert reply.status == 202, reply.body[:300]


def read_eml(path: Path) -> EmailMessage:
    """An ``.eml`` from the outbox, parsed with the modern email API."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def kbs(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``kbs`` command line (as the console script does) in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "kbs.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
    )


def clean_env() -> dict[str, str]:
    """This environment without AWS or KBS variables: the commands must find their own."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KBS_"))}


@dataclass
class Served:
    """A ``kbs serve`` subprocess and its data dir."""

    data_dir: Path
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    info: dict[str, Any]

    @property
    def api_url(self) -> str:
        return str(self.info["api_url"])

    def log_lines(self) -> list[dict[str, Any]]:
        """The structured lines of the local runtime (``logger: kbs.local``) so far."""
        lines = []
        for line in self.stderr.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("logger") == "kbs.local":
                    lines.append(record)
        return lines

    def handled(self, function: str, trigger: str) -> list[dict[str, Any]]:
        return [
            line
            for line in self.log_lines()
            if line.get("function") == function and line.get("trigger") == trigger
        ]

    def stop(self, signum: int = signal.SIGINT) -> int:
        """Signal the server and wait for it (a clean stop first finishes the queued events,
        for at most ``kbs serve --grace``, 30 s); its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def start(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start ``kbs serve --port 0`` on ``data_dir``; output goes to files beside it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "kbs.cli", "serve", "--port", "0", "--data-dir"]
    out, err = _output_files(data_dir)
    with out.open("wb") as stdout, err.open("wb") as stderr:
        return subprocess.Popen(
            [*command, str(data_dir), *args],
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
            env=clean_env(),
        )


def _output_files(data_dir: Path) -> tuple[Path, Path]:
    return data_dir.parent / f"{data_dir.name}.stdout", data_dir.parent / f"{data_dir.name}.stderr"


def serve(data_dir: Path, *args: str) -> Served:
    """Start ``kbs serve`` and wait until it has written ``local.json``."""
    process = start(data_dir, *args)
    stdout, stderr = _output_files(data_dir)
    info_path = data_dir / "local.json"

    def ready() -> dict[str, Any] | None:
        """This process's ``local.json`` (one a killed run left behind is not it)."""
        if process.poll() is not None:
            output = stderr.read_text(errors="replace")
            raise AssertionError(f"kbs serve exited with {process.returncode}:\n{output}")
        try:
            info: dict[str, Any] = json.loads(info_path.read_text())
        except FileNotFoundError:
            return None
        return info if info.get("pid") == process.pid else None

    info = wait_for(ready, timeout=START_SECONDS, what="local.json")
    return Served(data_dir, process, stdout, stderr, info)
