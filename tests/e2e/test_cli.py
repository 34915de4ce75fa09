"""The command line against a real ``kbs serve``: a reader that goes away (``| head``)."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest

from tests.conftest import EVENTS, ROOT
from tests.e2e.support import Served, clean_env, kbs

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_a_reader_that_goes_away_ends_the_command_quietly(stack: Served) -> None:
    local = ["--local", str(stack.data_dir)]
    imported = kbs("sessions", "import", str(EVENTS / "programme.sample.json"), *local)
    assert imported.returncode == 0, imported.stderr
    command = [sys.executable, "-m", "kbs.cli", "sessions", "list", *local]

    # The reader is gone before the first line is written: every write fails.
    gone = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env()
    )
    assert gone.stdout is not None and gone.stderr is not None
    gone.stdout.close()
    code = gone.wait(timeout=120)
    errors = gone.stderr.read().decode()
    gone.stderr.close()
    # As typed in a shell.
    head = subprocess.run(  # noqa: S602 (a fixed pipeline of our own arguments)
        f"{shlex.join(command)} | head -1",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
    )

    assert code == 141  # what a shell shows for a process ended by SIGPIPE
    assert errors == ""
    assert head.stdout.split() == [
        "ID",
        "START",
        "(SESSION",
        "TIME",
        "ZONE)",
        "KIND",
        "BOOKED",
        "WAITING",
        "STATUS",
    ]
    assert "Traceback" not in head.stderr and head.stderr == ""
