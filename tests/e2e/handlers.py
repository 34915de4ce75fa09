"""Tiny handlers for test-only wiring: they record what they receive and answer simply.

They exercise the local runtime itself (event shapes, partial batches, schedules); the real
handlers are exercised by the tests that run ``kbs serve`` on the real declaration.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

RECEIVED: list[tuple[str, dict[str, Any]]] = []
_lock = threading.Lock()


def _record(context: Any, event: dict[str, Any]) -> None:
    with _lock:
        RECEIVED.append((context.function_name, event))


def received(function: str) -> list[dict[str, Any]]:
    with _lock:
        return [event for name, event in RECEIVED if name == function]


def echo(event: dict[str, Any], context: Any) -> Any:
    """HTTP: answers as the request path asks (``/echo``, ``/binary``, ``/raw``, ``/boom``)."""
    _record(context, event)
    path = event["rawPath"]
    if path.startswith("/boom"):
        raise RuntimeError("boom")
    if path == "/raw":
        return {"hello": "world"}  # no statusCode: API Gateway makes it a 200 JSON response
    if path == "/malformed":
        return {"statusCode": "not a number"}
    if path == "/binary":
        return {
            "statusCode": 201,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(b"\x00\xffbytes").decode(),
            "isBase64Encoded": True,
            "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
        }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"remaining_ms": context.get_remaining_time_in_millis()}),
    }


def batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS: fails every record whose EventBridge detail says ``{"fail": true}``."""
    _record(context, event)
    failures = [
        {"itemIdentifier": record["messageId"]}
        for record in event["Records"]
        if json.loads(record["body"])["detail"].get("fail")
    ]
    return {"batchItemFailures": failures}


def scheduled(event: dict[str, Any], context: Any) -> None:
    """Schedule: records the Scheduled Event."""
    _record(context, event)


def rendezvous(event: dict[str, Any], context: Any) -> list[int]:
    """Writes this process's id under ``event["directory"]``, then waits (up to 20 s) until
    ``event["expected"]`` processes have: the ids seen (only its own if nobody else came)."""
    import os
    import time
    from pathlib import Path

    directory = Path(event["directory"])
    (directory / str(os.getpid())).touch()
    deadline = time.monotonic() + 20
    while len(list(directory.iterdir())) < event["expected"] and time.monotonic() < deadline:
        time.sleep(0.05)
    return sorted(int(path.name) for path in directory.iterdir())


def crash(event: dict[str, Any], context: Any) -> Any:
    """Ends its process at once when asked (``{"crash": true}``), as ``kill -9`` would; else
    answers its process id. ``{"sleep": S}`` sleeps first."""
    import os
    import time

    time.sleep(event.get("sleep", 0))
    if event.get("crash"):
        os._exit(9)
    return os.getpid()
