"""boto3 clients and resources, built on first use and cached (never at import time).

One boto3 session serves them all (each new session reloads botocore's data files), and a
lock guards creation, which boto3 sessions do not make thread-safe. boto3 itself is imported
lazily too: it is a large share of a cold start.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_dynamodb.service_resource import Table

_lock = threading.Lock()


@cache
def _session() -> Session:
    import boto3

    return boto3.session.Session()


def client(service: str) -> Any:
    """A cached boto3 client; endpoint and region come from the standard AWS variables."""
    with _lock:
        return _client(service)


def table(name: str) -> Table:
    """A cached DynamoDB Table resource."""
    with _lock:
        return _table(name)


def transact_write(table_name: str, actions: list[dict[str, Any]]) -> None:
    """TransactWriteItems with plain Python values: the Table resource's client serialises them
    (the stubs type that client as the low-level one, hence the cast)."""
    table(table_name).meta.client.transact_write_items(TransactItems=cast(Any, actions))


@cache
def _client(service: str) -> Any:
    if service == "s3":  # presigned URLs signed with SigV4 (botocore may still pick SigV2)
        from botocore.config import Config

        return _session().client("s3", config=Config(signature_version="s3v4"))
    return _session().client(service)  # type: ignore[call-overload]


@cache
def _table(name: str) -> Table:
    return _session().resource("dynamodb").Table(name)


def reset() -> None:
    """Forget cached session and clients (tests and the local stack switch endpoints)."""
    with _lock:
        _session.cache_clear()
        _client.cache_clear()
        _table.cache_clear()
