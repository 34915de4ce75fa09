"""``make bench``: measurements, not pass/fail tests.

Cold start: each declared handler module is imported in a fresh interpreter and timed against
``import boto3; boto3.client("dynamodb")`` in the same run (median of several runs each). The
budget is 1.6x the baseline.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from infra.wiring import FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
BUDGET = 1.6
ENV = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "KBS_TABLE_NAME": "bench",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "PATH": "/usr/bin:/bin",
}

_TIMER = """
import time
t0 = time.perf_counter()
{body}
print(time.perf_counter() - t0)
"""


def _time(body: str) -> float:
    """Median seconds to run ``body`` in a fresh interpreter (startup excluded)."""
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", _TIMER.format(body=body)],
            check=True,
            capture_output=True,
            text=True,
            env=ENV,
            cwd=ROOT,
        ).stdout
        samples.append(float(out.strip().splitlines()[-1]))
    return statistics.median(samples)


def cold_starts(report: Callable[[str], None] = print) -> bool:
    """Print each handler's import time and its ratio to the boto3 baseline; True if in budget."""
    baseline = _time('import boto3\nboto3.client("dynamodb")')
    report(f"cold start (median of {RUNS} fresh imports); budget {BUDGET}x baseline")
    report(f"  {'baseline: boto3 + dynamodb client':<44} {baseline * 1000:7.1f} ms  1.00x")
    within = True
    for fn in FUNCTIONS:
        seconds = _time(f"import {fn.module}")
        ratio = seconds / baseline
        ok = ratio <= BUDGET
        within &= ok
        verdict = "ok" if ok else "OVER BUDGET"
        label = f"{fn.name} ({fn.module})"
        report(f"  {label:<44} {seconds * 1000:7.1f} ms  {ratio:.2f}x {verdict}")
    return within


def main() -> int:
    ok = cold_starts()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
