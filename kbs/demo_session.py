"""The demo's later phases: the outbox, the organiser's uploads, the session's day, the links
in the emails (downloads, one-click unsubscribe, the "your data" export).
"""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from kbs import sample_files

# The first session's materials (SAMPLE files made in code), as an organiser names them.
BEFORE = {
    "slides/Forced labour risks \N{EN DASH} ICT hardware.pdf": sample_files.pdf("ICT hardware"),
    "guidance/Buyer's guidance note (ICT).docx": sample_files.docx("Guidance note (SAMPLE)"),
    "guidance/Contract clauses.pdf": b"MZ\x90\x00 a program renamed .pdf",  # quarantined
}
AFTER = {
    "slides/Questions & answers.pdf": sample_files.pdf("Q&A (SAMPLE)"),
    "guidance/Supplier engagement checklist.odt": sample_files.odt("Checklist (SAMPLE)"),
}


def say(message: str) -> None:
    print(message, flush=True)


def wait_for_outbox(outbox: Path, expected: int, timeout: float = 40) -> list[Path]:
    deadline = time.monotonic() + timeout
    last = -1
    while True:
        files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
        if len(files) != last:
            say(f"  outbox: {len(files)}/{expected} emails")
            last = len(files)
        if len(files) >= expected or time.monotonic() > deadline:
            return files
        time.sleep(0.5)


def tick(api_url: str, at: datetime) -> list[dict[str, str]]:
    """Fire the scheduled rules due at ``at`` (``kbs tick --at``, through its HTTP endpoint)."""
    from kbs.local.gateway import TICK_PATH

    request = urllib.request.Request(  # noqa: S310 - loopback URL from local.json
        f"{api_url}{TICK_PATH}",
        data=json.dumps({"at": at.isoformat()}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        fired: list[dict[str, str]] = json.load(response)["fired"]
    return fired


def session_day(
    api_url: str, session: dict[str, object], registrants: int, outbox: Path, sent: int
) -> list[Path]:
    """Tick through the session's day, waiting at each step for its email to every registrant."""
    start = datetime.fromisoformat(str(session["start"]))
    end = start + timedelta(minutes=int(str(session["duration_minutes"])))
    day = [
        ("T-24h", start - timedelta(hours=24), "reminders"),
        ("T-1h", start - timedelta(hours=1), "reminders"),
        ("start", start, '"we are live" notices'),
        ("end", end, "follow-ups with the feedback link"),
    ]
    files: list[Path] = []
    for label, at, what in day:
        fired = tick(api_url, at)
        outcome = ", ".join(f"{f['function']} {f['outcome']}" for f in fired)
        say(f"  kbs tick --at {at:%Y-%m-%dT%H:%MZ} ({label}): {outcome}; {what}")
        sent += registrants
        files = wait_for_outbox(outbox, sent)
    return files


MATERIAL_LINK = re.compile(r"https?://\S+/materials/[a-z2-7]{26}\?token=[\w.-]+")


def upload_materials(info: dict[str, str], session_id: str, files: dict[str, bytes]) -> None:
    """What an organiser does with any S3 client: a plain PutObject per file, under
    ``sessions/{session_id}/{slides|guidance}/{file name}``."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["region"],
        aws_access_key_id="testing",  # moto's: never a real profile
        aws_secret_access_key="testing",  # noqa: S106
    )
    for name, body in files.items():
        s3.put_object(Bucket=info["bucket"], Key=f"sessions/{session_id}/{name}", Body=body)


def wait_for_materials(data_dir: Path, session_id: str, count: int, timeout: float = 20) -> None:
    """Until the material processor has recorded ``count`` current materials of the session
    (what ``kbs materials list`` shows, read here without a subprocess)."""
    from kbs.target import local_target
    from shared.materials.library import current_materials

    target = local_target(data_dir)
    target.activate()
    deadline = time.monotonic() + timeout
    while len(current_materials(target.table, session_id)) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"the material processor did not record {count} materials")
        time.sleep(0.2)


def try_downloads(files: list[Path], uploaded: set[bytes], tries: int = 10) -> tuple[int, int]:
    """Follow the first materials links of the follow-ups (302 -> presigned URL on moto);
    how many served an uploaded file's exact bytes, and the status of a tampered link."""
    links = []
    for path in files:
        message = email.message_from_bytes(path.read_bytes())
        if message.get("X-KBS-Kind") == "follow-up":
            text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
            payload = text.get_payload(decode=True)
            assert isinstance(payload, bytes)
            links += MATERIAL_LINK.findall(payload.decode())
    same = 0
    for link in links[:tries]:
        with urllib.request.urlopen(link, timeout=30) as response:  # noqa: S310 - loopback
            same += response.read() in uploaded
    try:
        urllib.request.urlopen(links[0][:-4] + "AAAA", timeout=30).close()  # noqa: S310
        tampered = 200
    except urllib.error.HTTPError as error:
        tampered = error.code
    return same, tampered


PRIVACY_LINK = re.compile(r"https?://\S+/privacy\?token=([\w.-]+)")


def confirmations(files: list[Path], title: str) -> list[email.message.EmailMessage]:
    """The confirmation emails of the session called ``title``."""
    found = []
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        subject = str(message["Subject"])
        if message.get("X-KBS-Kind") == "confirmation" and subject.endswith(title):
            assert isinstance(message, email.message.EmailMessage)
            found.append(message)
    return found


def one_click_unsubscribe(message: email.message.EmailMessage) -> int:
    """What a mail program's "Unsubscribe" button does (RFC 8058): POST
    ``List-Unsubscribe=One-Click`` to the ``List-Unsubscribe`` URL. The HTTP status."""
    url = str(message["List-Unsubscribe"]).strip("<> ")
    request = urllib.request.Request(  # noqa: S310 - loopback URL from the email
        url,
        data=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return int(response.status)


def export_by_link(api_url: str, message: email.message.EmailMessage) -> int:
    """The registrant's "your data" link, then its export button: how many registrations
    the JSON export lists."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    (token,) = PRIVACY_LINK.findall(str(body.get_content()))[:1]
    request = urllib.request.Request(  # noqa: S310 - loopback URL from local.json
        f"{api_url}/privacy/export",
        data=urllib.parse.urlencode({"token": token}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return len(json.load(response)["registrations"])


def email_kinds(files: list[Path]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for path in files:
        message = email.message_from_bytes(path.read_bytes())
        kinds[message.get("X-KBS-Kind", "unknown")] += 1
    return kinds
