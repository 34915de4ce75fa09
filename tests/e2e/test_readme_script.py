"""The README's "Using it locally" steps are a script that runs green, in the order given.

Given the script ``scripts/try-locally.sh`` that the README shows verbatim, when it runs on a
fresh data dir, then every step succeeds and the registrant's day shows in the outbox.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "try-locally.sh"

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _readme_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- scripts/try-locally\.sh -->\n```sh\n(.*?)```", readme, re.S)
    assert match, "README.md lacks the scripts/try-locally.sh block"
    return match.group(1)


def test_the_readme_shows_the_script_verbatim() -> None:
    script = SCRIPT.read_text(encoding="utf-8")
    assert _readme_block() == script


def test_the_script_runs_green_in_the_order_given(tmp_path: Path) -> None:
    env = {**os.environ, "KBS_DATA_DIR": str(tmp_path / "kbs")}
    done = subprocess.run(
        ["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "7 sessions: 7 new" in out
    assert "fired (1): kbs-01-ict-hardware reminder-24h" in out
    assert "fired (1): kbs-01-ict-hardware reminder-1h" in out
    assert "fired (1): kbs-01-ict-hardware end" in out
    for kind in ("confirmation", "reminder-24h", "reminder-1h", "live", "follow-up"):
        assert re.search(rf"\s{kind}\s+zoe\.akesson@upphandling\.example\.se", out), kind
    assert "kbs-07-monitoring: cancelled" in out
    assert "erased: 2 registration(s)" in out
    assert "back on real time" in out
