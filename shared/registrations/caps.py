"""Caps on submissions: kbs must not be a way to flood one inbox, or to flood kbs.

Every accepted submission makes kbs email its address (a confirmation or a waiting-list email
per session), and anyone can type anyone's address (issue 12, item 2). So the API counts, before
it publishes anything:

- submissions **for one address**: at most ``per_address_per_day`` per UTC calendar day,
  counted by the SHA-256 digest of the canonical address (one submission for seven sessions
  counts once);
- submissions **from one client** (API Gateway's ``requestContext.http.sourceIp``): at most
  ``per_client_per_hour`` per UTC clock hour, counted by the digest of the address.

A count is one conditional ``UpdateItem`` (``ADD`` with a condition on the count), atomic under
concurrency; its item expires (TTL ``expiration``) a day after its window. Past a cap the
submission is refused with :class:`CapReachedError` (HTTP 429, nothing published, nothing
booked). The client is counted first, so a refused client does not use up the address's
allowance. A submission counted but then not published (EventBridge down: a 503) still counts.
A limit of 0 turns a cap off; ``exempt_loopback`` (the local stack) exempts 127.0.0.1 and ::1.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError

from shared.i18n.catalogs import N_
from shared.i18n.messages import Message
from shared.platform import keys
from shared.platform.clients import table
from shared.privacy.erasures import digest as address_digest
from shared.web.forms import IntakeError

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
KEPT_AFTER_WINDOW = timedelta(days=1)
ADDRESS = "address"
CLIENT = "client"

PER_CLIENT = N_(
    "Too many registrations from your network: at most %(limit)s an hour. Nothing was "
    "recorded; please try again later."
)
PER_ADDRESS = N_(
    "Email address has had %(limit)s registrations today, the most we accept in a day. "
    "Nothing was recorded; please try again tomorrow (UTC)."
)
"""The refusals past each cap (msgids, said in the page language)."""


@dataclass(frozen=True)
class Limits:
    """The caps in force (``shared.platform.settings``: ``cap_per_address_per_day``, ...)."""

    per_address_per_day: int
    per_client_per_hour: int
    exempt_loopback: bool = False


class CapReachedError(IntakeError):
    """A cap is reached: HTTP 429 with one message, ``scope`` (``address`` or ``client``) and
    ``retry_after`` (seconds until the window ends)."""

    def __init__(self, scope: str, retry_after: int, errors: dict[str, str]) -> None:
        super().__init__(429, errors)
        self.scope = scope
        self.retry_after = retry_after


def count_submission(
    table_name: str, *, email: str, source_ip: str | None, now: datetime, limits: Limits
) -> None:
    """Count one submission for ``email`` from ``source_ip`` at ``now`` (the request's time).

    Raises :class:`CapReachedError` past a cap (the refused submission is not counted against
    that cap), ``ClientError`` if DynamoDB fails."""
    if source_ip and limits.exempt_loopback and _loopback(source_ip):
        return
    if source_ip and limits.per_client_per_hour > 0:
        client_digest = hashlib.sha256(source_ip.encode()).hexdigest()
        if not _count(table_name, CLIENT, client_digest, now, HOUR, limits.per_client_per_hour):
            raise CapReachedError(
                CLIENT,
                _seconds_left(now, HOUR),
                {"body": Message(PER_CLIENT, limit=limits.per_client_per_hour)},
            )
    if limits.per_address_per_day > 0:
        limit = limits.per_address_per_day
        if not _count(table_name, ADDRESS, address_digest(email), now, DAY, limit):
            raise CapReachedError(
                ADDRESS,
                _seconds_left(now, DAY),
                {"email": Message(PER_ADDRESS, limit=limit)},
            )


def _count(
    table_name: str, scope: str, digest: str, now: datetime, window: timedelta, limit: int
) -> bool:
    """Add one to the window's count unless it reached ``limit``; whether it was added."""
    start = _window_start(now, window)
    try:
        table(table_name).update_item(
            Key={"PK": keys.cap_pk(scope, digest), "SK": keys.cap_sk(start)},
            UpdateExpression="ADD #count :one SET #type = :type, expiration = :expiration",
            ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames={"#count": "count", "#type": "type"},
            ExpressionAttributeValues={
                ":one": 1,
                ":limit": limit,
                ":type": "cap",
                ":expiration": int((start + window + KEPT_AFTER_WINDOW).timestamp()),
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def _seconds_left(now: datetime, window: timedelta) -> int:
    end = _window_start(now, window) + window
    return max(1, int((end - now).total_seconds()))


def _loopback(source_ip: str) -> bool:
    try:
        return ipaddress.ip_address(source_ip).is_loopback
    except ValueError:
        return False
