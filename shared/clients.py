"""boto3 clients and resources, built on first use and cached (never at import time).

boto3 itself is imported lazily too: it is a large share of a cold start.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@cache
def client(service: str) -> Any:
    """A cached boto3 client; endpoint and region come from the standard AWS variables."""
    import boto3

    return boto3.session.Session().client(service)  # type: ignore[call-overload]


@cache
def table(name: str) -> Table:
    """A cached DynamoDB Table resource."""
    import boto3

    return boto3.session.Session().resource("dynamodb").Table(name)


def reset() -> None:
    """Forget cached clients (tests switch endpoints between moto servers)."""
    client.cache_clear()
    table.cache_clear()
