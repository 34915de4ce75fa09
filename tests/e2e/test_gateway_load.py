"""``kbs serve`` under load: a burst gets answers, not resets; an oversize upload costs no memory.

A burst of simultaneous registrations must each get an HTTP answer (202, or API Gateway's
429 when the gateway is saturated), and every 202 must be booked exactly once. A 200 MB
chunked body must be refused with 413 after the 10 MB quota, without the server's memory
growing by the body's size.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from collections import Counter
from http.client import HTTPConnection, HTTPResponse
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kbs.local.gateway import MAX_BODY_BYTES
from kbs.local.server import moto_client
from tests.conftest import EVENTS
from tests.e2e.support import Served, http, kbs, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BURST = 300
ANSWERS = {202, 429, 503}
REFUSALS = {429: "Too Many Requests", 503: "Service Unavailable"}  # API Gateway's messages
MEMORY_BUDGET_MB = 40


def registration_form(number: int, session_id: str) -> bytes:
    form = {
        "full_name": f"Burst registrant {number}",
        "email": f"burst.{number}@example.org",
        "organisation": "Sample authority (test)",
        "country": "IE",
        "sessions": [session_id],
        "consent": "on",
        "website": "",
    }
    return urllib.parse.urlencode(form, doseq=True).encode()


def post_together(api_url: str, bodies: list[bytes]) -> list[tuple[Any, dict[str, str], bytes]]:
    """POST each body on its own connection, all released at once; status (or error) each."""
    netloc = urlsplit(api_url).netloc
    start = threading.Barrier(len(bodies))
    answers: list[tuple[Any, dict[str, str], bytes]] = [("no answer", {}, b"")] * len(bodies)

    def post(index: int) -> None:
        start.wait(timeout=60)
        connection = HTTPConnection(netloc, timeout=120)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        try:
            connection.request("POST", "/registrations", bodies[index], headers)
            response = connection.getresponse()
            answers[index] = (response.status, dict(response.getheaders()), response.read())
        except OSError as exc:  # a reset, a refused or dropped connection, a timeout
            answers[index] = (type(exc).__name__, {}, b"")
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return answers


def booked_references(stack: Served) -> list[str]:
    """The reference of every registration item in the table (one per booking)."""
    dynamodb = moto_client("dynamodb", stack.info["aws_endpoint_url"], stack.info["region"])
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=stack.info["table"],
        FilterExpression="#type = :registration",
        ExpressionAttributeNames={"#type": "type"},
        ExpressionAttributeValues={":registration": {"S": "registration"}},
    )
    return [item["reference"]["S"] for page in pages for item in page["Items"]]


def test_a_burst_gets_answers_not_resets_and_every_202_is_booked_once(stack: Served) -> None:
    imported = kbs(
        "sessions", "import", str(EVENTS / "programme.sample.json"), "--local", str(stack.data_dir)
    )
    assert imported.returncode == 0, imported.stderr
    session_id = http("GET", f"{stack.api_url}/sessions").json()[0]["session_id"]

    answers = post_together(stack.api_url, [registration_form(n, session_id) for n in range(BURST)])

    statuses = Counter(status for status, _, _ in answers)
    print(f"burst of {BURST}: {dict(statuses)}")
    assert set(statuses) <= ANSWERS, statuses  # no resets, no dropped connections
    for status, headers, body in answers:
        if status in REFUSALS:
            assert json.loads(body) == {"message": REFUSALS[status]}
            assert int(headers["retry-after"]) > 0
    accepted = [json.loads(body)["reference"] for status, _, body in answers if status == 202]
    assert accepted
    assert len(set(accepted)) == len(accepted)

    def all_booked() -> list[str]:
        booked = booked_references(stack)
        return booked if len(booked) >= len(accepted) else []

    booked = wait_for(all_booked, timeout=240, what=f"{len(accepted)} bookings")
    assert sorted(booked) == sorted(accepted)  # each once, and nothing else


def test_an_oversize_chunked_body_is_a_413_without_the_server_growing(stack: Served) -> None:
    status_file = Path(f"/proc/{stack.process.pid}/status")
    Path(f"/proc/{stack.process.pid}/clear_refs").write_text("5")  # peak memory := now
    before = _memory_kb(status_file, "VmHWM")
    url = urlsplit(stack.api_url)
    chunk = b"%x\r\n%s\r\n" % (1024 * 1024, b"x" * 1024 * 1024)
    sent = [0]

    with socket.create_connection((url.hostname, url.port), timeout=60) as sock:
        sock.sendall(
            b"POST /registrations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        )

        def upload() -> None:  # 200 MB, stopping when the server stops reading
            try:
                for _ in range(200):
                    sock.sendall(chunk)
                    sent[0] += 1
                sock.sendall(b"0\r\n\r\n")
            except OSError:
                pass

        uploader = threading.Thread(target=upload, daemon=True)
        uploader.start()
        response = HTTPResponse(sock, method="POST")
        response.begin()
        body = response.read()
        uploader.join(timeout=60)

    time.sleep(0.2)
    peak = _memory_kb(status_file, "VmHWM")
    print(f"peak memory {before // 1024} MB -> {peak // 1024} MB; {sent[0]} MB sent")
    assert response.status == 413
    assert json.loads(body) == {"message": "Request Entity Too Large"}
    assert sent[0] * 1024 * 1024 > MAX_BODY_BYTES  # the client really was sending past it
    assert (peak - before) // 1024 < MEMORY_BUDGET_MB
    assert http("GET", f"{stack.api_url}/sessions").status == 200  # still serving


def _memory_kb(status_file: Path, field: str) -> int:
    for line in status_file.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in {status_file}")
