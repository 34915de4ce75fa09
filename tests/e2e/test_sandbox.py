"""Sandbox processes (kbs/local/sandbox.py) and moto's process (kbs/local/moto_process.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from infra.wiring import Function
from kbs.local.clock import Clock
from kbs.local.sandbox import SandboxError, SandboxPool
from kbs.local.state import pid_alive
from tests.conftest import ROOT
from tests.e2e.support import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def function(entrypoint: str, timeout_seconds: int = 30) -> Function:
    return Function(
        name=entrypoint,
        handler=f"tests.e2e.handlers.{entrypoint}",
        description="test",
        triggers=(),
        timeout_seconds=timeout_seconds,
    )


def test_two_sandboxes_serve_two_invocations_at_the_same_time(tmp_path: Path) -> None:
    pool = SandboxPool(function("rendezvous"), "eu-west-1", 2, Clock()).start()
    try:
        event = {"directory": str(tmp_path), "expected": 2}
        with ThreadPoolExecutor(2) as clients:
            first, second = clients.map(pool.invoke, [event, event])
    finally:
        pool.stop()

    assert first.ok and second.ok
    # Each saw the other's process while it waited: they ran at once, in two processes.
    assert first.result == second.result
    assert len(set(first.result)) == 2
    assert os.getpid() not in first.result


def test_a_sandbox_that_dies_fails_its_invocation_and_is_replaced() -> None:
    pool = SandboxPool(function("crash"), "eu-west-1", 1, Clock()).start()
    try:
        before = pool.invoke({})
        crashed = pool.invoke({"crash": True})
        after = pool.invoke({})
    finally:
        pool.stop()

    assert before.ok
    assert isinstance(crashed.error, SandboxError)
    assert "exited with code" in str(crashed.error)
    assert after.ok
    assert after.result != before.result  # a new process


def test_a_sandbox_past_its_timeout_is_killed_and_replaced() -> None:
    pool = SandboxPool(function("crash", timeout_seconds=1), "eu-west-1", 1, Clock()).start()
    try:
        slow = pool.invoke({"sleep": 30})
        after = pool.invoke({})
    finally:
        pool.stop()

    assert isinstance(slow.error, SandboxError)
    assert "Task timed out after 1 seconds" in str(slow.error)
    assert after.ok


def test_a_handler_error_is_the_invocation_s_error_and_the_sandbox_lives_on() -> None:
    pool = SandboxPool(function("echo"), "eu-west-1", 1, Clock()).start()
    try:
        failed = pool.invoke({"rawPath": "/boom"})
        pids = pool.pids
        answered = pool.invoke({"rawPath": "/raw"})
    finally:
        pool.stop()

    assert str(failed.error) == "RuntimeError: boom"
    assert answered.result == {"hello": "world"}
    assert pool.pids == [] and len(pids) == 1


PARENT = """
import json, sys, time
from pathlib import Path
from kbs.local.moto_process import MotoProcess
moto = MotoProcess("127.0.0.1", Path(sys.argv[1]))
moto.start()
print(json.dumps({"pid": moto.pid, "endpoint": moto.endpoint}), flush=True)
time.sleep(600)
"""


def test_moto_s_process_ends_when_kbs_serve_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path / "outbox")],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    assert parent.stdout is not None
    started = json.loads(parent.stdout.readline())
    assert pid_alive(started["pid"])

    parent.send_signal(signal.SIGKILL)
    parent.wait()

    wait_for(lambda: not running(started["pid"]) or None, what="moto's process to end")


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return pid_alive(pid) and status.rpartition(")")[2].split()[0] != "Z"
