"""``make bench``: measurements, not pass/fail tests.

Cold start: each declared handler module is imported in a fresh interpreter and timed against
``import boto3; boto3.client("dynamodb")`` in the same run (median of several runs each). The
budget is 1.6x the baseline.

Fan-out: a session with 10,000 confirmed registrants on in-process moto; the session clock
ticks at T-24h and the email sender drains the queue one batch per invocation, as deployed.
Every AWS call is counted (botocore ``before-call`` events): wall time, DynamoDB and SES calls
per recipient, and batches against the floor of ceil(N / 50).

Reports: ``kbs report series`` over 21 sessions x 300 registrations seeded with batch writes
on in-process moto: its time and read cost (Query pages per registration, no Scan).

Attendance and certificates: a 1,000-row Zoom report parsed and matched, 300 certificate PDFs
rendered, per stage (:mod:`tests.bench_certificates`).

Local stack: booking cost by table size, memory over a soak, latency after it
(:mod:`tests.bench_local`).
"""

from __future__ import annotations

import contextlib
import io
import math
import statistics
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

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


BASELINE = 'import boto3\nboto3.client("dynamodb")'


def _run(body: str) -> float:
    """Seconds to run ``body`` in a fresh interpreter (startup excluded)."""
    out = subprocess.run(
        [sys.executable, "-c", _TIMER.format(body=body)],
        check=True,
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
    ).stdout
    return float(out.strip().splitlines()[-1])


def _paired(body: str) -> tuple[float, float]:
    """Medians of the baseline and of ``body``, run alternately (a busy machine slows both)."""
    pairs = [(_run(BASELINE), _run(body)) for _ in range(RUNS)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def cold_starts(report: Callable[[str], None] = print) -> bool:
    """Print each handler's import time and its ratio to the boto3 baseline measured alongside
    it; True if in budget."""
    measured = {fn.name: _paired(f"import {fn.module}") for fn in FUNCTIONS}
    baseline = statistics.median(base for base, _ in measured.values())
    report(f"cold start (median of {RUNS} fresh imports); budget {BUDGET}x baseline")
    report(f"  {'baseline: boto3 + dynamodb client':<44} {baseline * 1000:7.1f} ms  1.00x")
    within = True
    for fn in FUNCTIONS:
        own_baseline, seconds = measured[fn.name]
        ratio = seconds / own_baseline
        ok = ratio <= BUDGET
        within &= ok
        verdict = "ok" if ok else "OVER BUDGET"
        label = f"{fn.name} ({fn.module})"
        report(f"  {label:<44} {seconds * 1000:7.1f} ms  {ratio:.2f}x {verdict}")
    return within


FAN_OUT = 10_000


@contextmanager
def _moto_account() -> Iterator[Any]:
    """In-process moto with the test account's resources (as the ``aws`` test fixture)."""
    import pytest
    from moto import mock_aws

    from kbs.local.provisioning import create_table
    from shared.platform import clients
    from shared.platform.settings import get_settings
    from tests.conftest import BUS_NAME, LINK_SECRET, REGION, SENDER, TABLE_NAME

    patch = pytest.MonkeyPatch()
    for name, value in {
        **{k: v for k, v in ENV.items() if k != "PATH"},
        "AWS_DEFAULT_REGION": REGION,
        "KBS_TABLE_NAME": TABLE_NAME,
        "KBS_EVENT_BUS_NAME": BUS_NAME,
        "KBS_SENDER_EMAIL": SENDER,
        "KBS_LINK_SECRET": LINK_SECRET,
        "POWERTOOLS_METRICS_DISABLED": "1",
    }.items():
        patch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        patch.delenv(name, raising=False)
    get_settings.cache_clear()
    # The local stack's moto patch: unpatched, each Query sorts the whole table (10,000+ items
    # here), which measures moto, not kbs (kbs/local/moto_patch.py).
    from kbs.local import moto_patch

    moto_patch.apply()
    try:
        with mock_aws():
            clients.reset()
            create_table(TABLE_NAME)
            clients.client("events").create_event_bus(Name=BUS_NAME)
            clients.client("sesv2").create_email_identity(EmailIdentity=SENDER)
            yield patch
    finally:
        patch.undo()
        clients.reset()
        get_settings.cache_clear()


def fan_out(report: Callable[[str], None] = print, recipients: int = FAN_OUT) -> bool:
    """Time and count the T-24h reminder to ``recipients`` registrants; True if every one got
    exactly one email in the fewest batches."""
    from shared.platform import clients
    from shared.platform.clients import table
    from shared.platform.observability import logger
    from tests.conftest import TABLE_NAME
    from tests.integration import lifecycle_harness as harness

    logger.setLevel("WARNING")  # not a line per email in the report
    warnings.filterwarnings("ignore", "No application metrics to publish")  # metrics disabled
    with _moto_account() as patch:
        calls: Counter[str] = Counter()
        clients.reset()
        clients._session().events.register(  # every client and resource made from now on
            "before-call", lambda event_name, **_: calls.update([event_name.split(".", 1)[1]])
        )
        life = harness.Lifecycle(patch)
        session = life.schedule(harness.sample_session())
        started = time.perf_counter()
        with table(TABLE_NAME).batch_writer() as writer:
            for n in range(recipients):
                writer.put_item(Item=_registration_item(harness, session.session_id, n))
        seeded = time.perf_counter()
        calls.clear()

        # Powertools prints metrics every 100 values even when disabled: not for the report.
        with contextlib.redirect_stdout(io.StringIO()):
            life.tick(harness.START - timedelta(hours=24), deliver=False)
            ticked, clock_calls = time.perf_counter(), Counter(calls)
            calls.clear()
            batches = len(life.queued_batches())
            life.send_emails()
            sent = time.perf_counter()
        sender_calls = Counter(calls)
        emails = harness.recipients("reminder-24h")

    floor = math.ceil(recipients / 50)
    total = clock_calls + sender_calls
    dynamodb = sum(n for call, n in total.items() if call.startswith("dynamodb."))
    ses = sum(n for call, n in total.items() if call.startswith("sesv2."))
    report(f"fan-out of one reminder to {recipients:,} registrants (moto, in-process)")
    report(f"  seeding (batch_writer, not measured)      {seeded - started:7.1f} s")
    report(f"  session clock: Query + enqueue            {ticked - seeded:7.1f} s")
    report(f"  {f'email sender: {batches} invocations':<41} {sent - ticked:7.1f} s")
    report(f"  wall time, clock to last email            {sent - seeded:7.1f} s")
    report(f"  batches {batches} (floor ceil(N/50) = {floor})")
    per_recipient = dynamodb / recipients
    report(f"  DynamoDB calls per recipient  {per_recipient:.3f}  ({_calls(total, 'dynamodb')})")
    report(f"  SES calls per recipient       {ses / recipients:.3f}  ({_calls(total, 'sesv2')})")
    report(f"  SQS calls by the clock        {_calls(clock_calls, 'sqs')}")
    exactly_once = len(emails) == recipients and set(emails.values()) == {1}
    report(f"  emails {sum(emails.values()):,}, each recipient exactly once: {exactly_once}")
    return exactly_once and batches == floor


def _registration_item(harness: Any, session_id: str, n: int) -> dict[str, Any]:
    from shared.registrations.store import registration_item

    return registration_item(harness.registration(session_id, n))


def _calls(calls: Counter[str], service: str) -> str:
    return ", ".join(
        f"{c.split('.')[1]} {n}" for c, n in sorted(calls.items()) if c.startswith(f"{service}.")
    )


REPORT_SESSIONS, REPORT_PER_SESSION = 21, 300


def report_series(
    report: Callable[[str], None] = print,
    sessions: int = REPORT_SESSIONS,
    per_session: int = REPORT_PER_SESSION,
) -> bool:
    """Time ``kbs report series`` (the console command, table output) over ``sessions`` x
    ``per_session`` registrations seeded with batch writes; print its read cost. True if it
    read with Query and GetItem only (never a Scan) and listed every registration."""
    import tempfile

    from kbs.cli import main as kbs
    from shared.platform import clients
    from tests.conftest import TABLE_NAME
    from tests.reports_support import seed, session
    from tests.support import local_stack_file

    with _moto_account() as patch, tempfile.TemporaryDirectory() as data_dir:
        started = time.perf_counter()
        seed(TABLE_NAME, [session(n) for n in range(1, sessions + 1)], per_session)
        seeded = time.perf_counter()
        calls: Counter[str] = Counter()
        real_reset = clients.reset

        def reset_and_count() -> None:  # the command's target resets the clients: count anew
            real_reset()
            clients._session().events.register(
                "before-call", lambda event_name, **_: calls.update([event_name.split(".", 1)[1]])
            )

        patch.setattr(clients, "reset", reset_and_count)
        printed, cpu = io.StringIO(), time.process_time()
        with contextlib.redirect_stdout(printed):
            code = kbs(["report", "series", "--local", local_stack_file(Path(data_dir)).as_posix()])
        done, cpu = time.perf_counter(), time.process_time() - cpu
    registrations = sessions * per_session
    queries = calls["dynamodb.Query"]
    # The totals' series line: "series  {registered}  ...".
    (listed,) = [
        int(line.split()[1])
        for line in printed.getvalue().splitlines()
        if line.startswith("series ")
    ]
    report(f"kbs report series over {sessions} sessions x {per_session} registrations (moto)")
    report(f"  seeding (batch_writer, not measured)      {seeded - started:7.1f} s")
    report(f"  kbs report series                         {done - seeded:7.1f} s ({cpu:.1f} s CPU)")
    report(f"  DynamoDB calls: {_calls(calls, 'dynamodb')}")
    report(f"  Query pages per registration  {queries / registrations:.4f}")
    report(f"  registrations counted {listed:,} of {registrations:,}")
    return code == 0 and "dynamodb.Scan" not in calls and listed == registrations


def _attendance(report: Callable[[str], None] = print) -> bool:
    from tests.bench_certificates import attendance_and_certificates

    return attendance_and_certificates(report)


def _local(report: Callable[[str], None] = print) -> bool:
    from tests.bench_local import local_stack

    return local_stack(report)


SECTIONS: dict[str, Callable[..., bool]] = {
    "cold": cold_starts,
    "fan-out": fan_out,
    "reports": report_series,
    "attendance": _attendance,
    "local": _local,
}


def main(argv: list[str] | None = None) -> int:
    """Run the sections named in ``argv`` (all if none: ``python -m tests.bench local``)."""
    names = argv if argv is not None else sys.argv[1:]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        print(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
        return 2
    ok = True
    for n, name in enumerate(names or SECTIONS):
        if n:
            print()
        ok &= SECTIONS[name]()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
