"""``make bench``, local stack section: one ``kbs serve`` process, measured from outside.

1. Booking cost as the table grows: ``shared.registrations.booking.book`` (a session read, a
   query for an existing registration and the booking transaction) and the
   ``TransactWriteItems`` alone, against the stack's moto, with 0, 2,000 and 10,000
   registrations in the table (seeded with batch writes). Flat means the 10,000 figure is at
   most twice the empty one.
2. Soak: 2,000 registrations (8 concurrent clients), 50 uploads of about 1 MB, and a day of
   ticks of the simulated clock (every 5 minutes from T-24h to T+2h of the first session, so
   its reminders, "live" notices and follow-ups go out); then until every queue is empty.
   Memory (the proportional set size, ``Pss`` of ``/proc/{pid}/smaps_rollup``, of the serve
   process, moto's process and the sandbox processes, summed: pages the processes share, such
   as the Python libraries, counted once rather than once per process) before and after;
   budget: growth under 300 MB.
3. Latency after the soak: 400 ``POST /registrations`` from 8 concurrent clients; p50, p95,
   p99 and requests/s. Budget: p95 at most 1 s, at least 20 requests/s.

Each figure is printed with the machine's load average: other work slows every one of them.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import statistics
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import EVENTS, ROOT, load_event
from tests.e2e.support import Served, kbs, serve

CLIENTS = 8
SOAK_REGISTRATIONS = 2_000
LATENCY_REGISTRATIONS = 400
UPLOADS = 50
UPLOAD_BYTES = 1024 * 1024
TABLE_SIZES = (0, 2_000, 10_000)
BOOKINGS = 20  # timed at each table size
BENCH_SESSION = "kbs-bench-capacity"
P95_BUDGET_S = 1.0
THROUGHPUT_BUDGET = 20.0
GROWTH_BUDGET_MB = 300
FLAT_RATIO = 2.0
LOG = ROOT / ".kbs" / "bench-serve.log"


def rss_mb(pid: int) -> float:
    """Memory of process ``pid`` in MB: its proportional set size (``Pss`` in
    ``/proc/{pid}/smaps_rollup``: each shared page divided among the processes that map it),
    so that a sum over the stack's processes counts shared libraries once."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no Pss for pid {pid}")


def stack_rss_mb(served: Served) -> dict[str, float]:
    """Resident memory in MB of each kind of process of the stack (``local.json`` names
    them): ``serve``, ``moto``, ``sandboxes`` (those now running), and their ``total``."""
    info = json.loads((served.data_dir / "local.json").read_text())
    kinds = {"serve": [served.process.pid], "moto": [info["moto_pid"]]}
    kinds["sandboxes"] = list(info.get("sandbox_pids", []))
    sizes = {}
    for kind, pids in kinds.items():
        sizes[kind] = 0.0
        for pid in pids:
            with contextlib.suppress(FileNotFoundError):  # a sandbox replaced since
                sizes[kind] += rss_mb(pid)
    sizes["total"] = sum(sizes.values())
    return sizes


def _sizes(sizes: dict[str, float]) -> str:
    return (
        f"serve {sizes['serve']:.0f}, moto {sizes['moto']:.0f}, sandboxes {sizes['sandboxes']:.0f}"
    )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (``/proc/loadavg``): other work on the machine."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _programme(directory: Path) -> Path:
    """The sample programme plus one big session the booking-cost runs fill."""
    programme = json.loads((EVENTS / "programme.sample.json").read_text())
    first = dict(programme["sessions"][0])
    first |= {"session_id": BENCH_SESSION, "capacity": 100_000, "start_in_days": 30}
    first["title"] = "Bench session (capacity 100,000)"
    programme["sessions"].append(first)
    path = directory / "programme.json"
    path.write_text(json.dumps(programme))
    return path


def _form(n: int, sessions: list[str]) -> bytes:
    chosen = [sessions[n % len(sessions)], sessions[(n * 7 + 3) % len(sessions)]]
    form = {
        "full_name": f"Bench Buyer {n}",
        "email": f"bench.buyer.{n}@buyers.example.eu",
        "organisation": "Bench authority",
        "country": "IE",
        "sessions": list(dict.fromkeys(chosen)),
        "consent": "on",
        "website": "",
    }
    return urllib.parse.urlencode(form, doseq=True).encode()


def _post(url: str, body: bytes) -> tuple[int, float]:
    """``(status, seconds)`` of one form post."""
    request = urllib.request.Request(
        url,
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.perf_counter() - started


def register_concurrently(
    api_url: str, sessions: list[str], first: int, count: int
) -> tuple[list[float], Counter[int], float]:
    """Post ``count`` registrations from :data:`CLIENTS` threads; latencies, statuses, wall s."""
    url = f"{api_url}/registrations"
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(
            pool.map(lambda n: _post(url, _form(n, sessions)), range(first, first + count))
        )
    wall = time.perf_counter() - started
    return [seconds for _, seconds in results], Counter(status for status, _ in results), wall


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def booking_costs(served: Served, report: Callable[[str], None]) -> bool:
    """Median ms of a booking and of its transaction at each of :data:`TABLE_SIZES`."""
    from kbs.target import local_target
    from shared.platform.clients import table, transact_write
    from shared.registrations import booking
    from shared.registrations.models import RegistrationSubmission
    from tests.bench import _registration_item
    from tests.integration import lifecycle_harness as harness

    target = local_target(served.data_dir)
    target.activate()
    sample = RegistrationSubmission.model_validate(
        load_event("bus/registration-submitted.json")["detail"]["data"]
    )
    seeded, made, medians = 0, 0, {}
    report("booking cost as the table grows (kbs serve's moto; median of 20 bookings)")
    for size in TABLE_SIZES:
        with table(target.table).batch_writer() as writer:
            for n in range(seeded, size):
                writer.put_item(Item=_registration_item(harness, BENCH_SESSION, n))
        seeded = size
        books, transactions = [], []
        for _ in range(BOOKINGS):
            made += 1
            submission = sample.model_copy(
                update={
                    "email": f"timed.{made}@buyers.example.eu",
                    "reference": f"KBS-BENCH-{made:04d}",
                    "sessions": [BENCH_SESSION],
                }
            )
            started = time.perf_counter()
            booking.book(target.table, submission, datetime.now(UTC))
            books.append(time.perf_counter() - started)
            registration = harness.registration(BENCH_SESSION, 100_000 + made)
            actions = booking._booking_transaction(target.table, registration)
            started = time.perf_counter()
            transact_write(target.table, actions)
            transactions.append(time.perf_counter() - started)
        book_ms = statistics.median(books) * 1000
        medians[size] = statistics.median(transactions) * 1000
        report(
            f"  {f'{size:,} registrations:':<24} booking {book_ms:6.1f} ms   "
            f"TransactWriteItems {medians[size]:6.1f} ms"
        )
    ratio = medians[TABLE_SIZES[-1]] / medians[0]
    flat = ratio <= FLAT_RATIO
    verdict = "flat" if flat else "GROWS"
    report(f"  transaction at {TABLE_SIZES[-1]:,} / at 0: {ratio:.2f}x ({verdict})")
    report(f"  load average (1, 5, 15 min) {load_average()}")
    return flat


def soak(served: Served, sessions: list[str], report: Callable[[str], None]) -> tuple[float, bool]:
    """Run the soak (module doc); the seconds it took, and whether every queue drained."""
    started = time.perf_counter()
    latencies, statuses, wall = register_concurrently(
        served.api_url, sessions, 0, SOAK_REGISTRATIONS
    )
    report(
        f"  {SOAK_REGISTRATIONS:,} registrations in {wall:.1f} s "
        f"({dict(sorted(statuses.items()))}; p95 {_percentile(latencies, 0.95):.2f} s)"
    )
    _upload(served, sessions[0])
    listing = json.loads(_get(f"{served.api_url}/sessions"))
    ticks = _day_of_ticks(served, _start_of(listing, sessions[0]))
    report(f"  {UPLOADS} uploads of {UPLOAD_BYTES // 1024} KB, {ticks} ticks (5 min apart)")
    drained, pending = _wait_until_drained(served)
    if pending:
        report(f"  NOT DRAINED after {drained:.0f} s: {pending}")
    else:
        report(f"  queues drained {drained:.1f} s after the last tick")
    outcomes = Counter(
        (line["function"], line["outcome"]) for line in served.log_lines() if "outcome" in line
    )
    failed = {f"{fn} {outcome}": n for (fn, outcome), n in outcomes.items() if outcome != "ok"}
    report(f"  invocations {sum(outcomes.values()):,}; not ok: {failed or 'none'}")
    return time.perf_counter() - started, not pending


def _start_of(listing: Any, session_id: str) -> datetime:
    for row in listing:
        if row.get("session_id") == session_id:
            return datetime.fromisoformat(str(row["start"]).replace("Z", "+00:00"))
    raise RuntimeError(f"{session_id} not in GET /sessions")


def _upload(served: Served, session_id: str) -> None:
    import boto3

    from kbs import sample_files

    info = served.info
    s3 = boto3.client(
        "s3",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pdf = sample_files.pdf("Bench slides (SAMPLE)")
    body = pdf + b"\n%" + b"x" * (UPLOAD_BYTES - len(pdf) - 2)  # a PDF with a long comment
    for n in range(UPLOADS):
        key = f"sessions/{session_id}/slides/Bench deck {n % 5}.pdf"  # new versions of 5 files
        s3.put_object(Bucket=info["bucket"], Key=key, Body=body)


def _day_of_ticks(served: Served, start: datetime) -> int:
    from kbs.local.gateway import TICK_PATH

    at, end, ticks = start - timedelta(hours=24), start + timedelta(hours=2), 0
    while at <= end:
        request = urllib.request.Request(
            f"{served.api_url}{TICK_PATH}",
            data=json.dumps({"at": at.isoformat()}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
        at, ticks = at + timedelta(minutes=5), ticks + 1
    return ticks


def _wait_until_drained(served: Served, timeout: float = 300) -> tuple[float, dict[str, int]]:
    """Seconds until every queue of the stack is empty twice in a row (nothing in flight), or
    until ``timeout``; the messages still pending by queue (empty if drained)."""
    import boto3

    info = served.info
    sqs = boto3.client(
        "sqs",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    started, empty, pending = time.perf_counter(), 0, {}
    while empty < 2 and time.perf_counter() - started < timeout:
        time.sleep(1)
        counts = {
            rule: sum(
                int(value)
                for value in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)[
                    "Attributes"
                ].values()
            )
            for rule, url in info["queues"].items()
        }
        pending = {rule: n for rule, n in counts.items() if n}
        empty = 0 if pending else empty + 1
    return time.perf_counter() - started, pending


def local_stack(report: Callable[[str], None] = print) -> bool:
    """Every figure of the module doc; True if all are within budget."""
    with tempfile.TemporaryDirectory(prefix="kbs-bench-") as directory:
        served = serve(Path(directory) / "data")
        try:
            return _measure(served, Path(directory), report)
        finally:
            served.stop()
            LOG.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(served.stderr, LOG)
            report(f"  the serve process's log: {LOG}")


def _measure(served: Served, directory: Path, report: Callable[[str], None]) -> bool:
    imported = kbs(
        "sessions", "import", str(_programme(directory)), "--local", str(served.data_dir)
    )
    if imported.returncode:
        raise RuntimeError(imported.stderr)
    sessions = [s["session_id"] for s in json.loads(_get(f"{served.api_url}/sessions"))]
    sessions = [s for s in sessions if s != BENCH_SESSION]
    pid = served.process.pid
    start = stack_rss_mb(served)
    report(
        f"local stack: `kbs serve` pid {pid}; memory (PSS) at start {start['total']:.0f} MB "
        f"({_sizes(start)})"
    )
    report(f"  load average (1, 5, 15 min) {load_average()}")
    flat = booking_costs(served, report)

    report(f"soak ({SOAK_REGISTRATIONS:,} registrations, {UPLOADS} uploads, a day of ticks)")
    sizes_before = stack_rss_mb(served)
    seconds, drained = soak(served, sessions, report)
    sizes_after = stack_rss_mb(served)
    before, after = sizes_before["total"], sizes_after["total"]
    growth = after - before
    within = growth < GROWTH_BUDGET_MB
    report(f"  soak took {seconds:.0f} s")
    report(f"  memory (PSS) before soak            {before:7.0f} MB ({_sizes(sizes_before)})")
    report(f"  memory (PSS) after soak             {after:7.0f} MB ({_sizes(sizes_after)})")
    report(f"  load average (1, 5, 15 min) {load_average()}")
    report(
        f"  growth {growth:+.0f} MB (budget < {GROWTH_BUDGET_MB} MB): "
        f"{'ok' if within else 'OVER BUDGET'}"
    )

    report(f"POST /registrations after the soak: {LATENCY_REGISTRATIONS} from {CLIENTS} clients")
    still_open = {s["session_id"] for s in json.loads(_get(f"{served.api_url}/sessions"))}
    sessions = [s for s in sessions if s in still_open]  # the soak's day closed the first
    latencies, statuses, wall = register_concurrently(
        served.api_url, sessions, SOAK_REGISTRATIONS, LATENCY_REGISTRATIONS
    )
    p95 = _percentile(latencies, 0.95)
    rate = LATENCY_REGISTRATIONS / wall
    fast, busy = p95 <= P95_BUDGET_S, rate >= THROUGHPUT_BUDGET
    report(f"  statuses {dict(sorted(statuses.items()))}")
    report(f"  p50 {_percentile(latencies, 0.5) * 1000:7.0f} ms")
    report(
        f"  p95 {p95 * 1000:7.0f} ms (budget {P95_BUDGET_S * 1000:.0f} ms): "
        f"{'ok' if fast else 'OVER BUDGET'}"
    )
    report(f"  p99 {_percentile(latencies, 0.99) * 1000:7.0f} ms")
    report(
        f"  throughput {rate:5.1f} requests/s (budget >= {THROUGHPUT_BUDGET:.0f}): "
        f"{'ok' if busy else 'UNDER BUDGET'}"
    )
    report(f"  memory (PSS) at the end             {stack_rss_mb(served)['total']:7.0f} MB")
    report(f"  load average (1, 5, 15 min) {load_average()}")
    return flat and within and fast and busy and set(statuses) == {202} and drained


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: bytes = response.read()
    return body
