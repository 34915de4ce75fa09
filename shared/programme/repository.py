"""Data access for sessions (the programme): DynamoDB items in, domain models out.

Layout and access patterns: :mod:`shared.platform.keys`. Booking counters (``confirmed``,
``waitlisted``) live on the session's META item so capacity checks are atomic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import ConditionBase, Key
from botocore.exceptions import ClientError

from shared.platform import keys
from shared.platform.clients import table
from shared.programme.models import Session, SessionAvailability, SessionStatus

_SESSION_FIELDS = tuple(Session.model_fields)


class SessionNotFoundError(LookupError):
    """No session with that id."""


class SessionChangedError(RuntimeError):
    """The session changed since it was read: read it again and decide again."""


def session_item(session: Session) -> dict[str, Any]:
    """The META item of a session (without its counters)."""
    data = session.model_dump(mode="json")
    return {
        "PK": keys.session_pk(session.session_id),
        "SK": keys.META,
        "GSI1PK": keys.PROGRAMME,
        "GSI1SK": data["start"],
        "type": "session",
        **data,
    }


def availability_from_item(item: dict[str, Any]) -> SessionAvailability:
    session = Session.model_validate({k: item[k] for k in _SESSION_FIELDS if k in item})
    return SessionAvailability(
        session=session,
        confirmed=int(item.get("confirmed", 0)),
        waitlisted=int(item.get("waitlisted", 0)),
    )


def put_session(
    table_name: str, session: Session, *, imported: dict[str, Any] | None = None
) -> bool:
    """Create or update a session, keeping its booking counters; ``imported``: the programme
    file's form of it (:mod:`shared.programme.imports`), stored as ``imported``.

    Returns ``True`` if anything changed (so a repeated import emits no event).
    """
    item = session_item(session)
    if imported is not None:
        item["imported"] = imported
    current = (
        table(table_name)
        .get_item(Key={"PK": item["PK"], "SK": keys.META}, ConsistentRead=True)
        .get("Item")
    )
    if current and all(current.get(k) == v for k, v in item.items()):
        return False
    names = {f"#{k}": k for k in item if k not in ("PK", "SK")}
    values = {f":{k}": v for k, v in item.items() if k not in ("PK", "SK")}
    assignments = ", ".join(f"#{k} = :{k}" for k in item if k not in ("PK", "SK"))
    table(table_name).update_item(
        Key={"PK": item["PK"], "SK": keys.META},
        UpdateExpression=f"SET {assignments}, confirmed = if_not_exists(confirmed, :zero), "
        "waitlisted = if_not_exists(waitlisted, :zero)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={**values, ":zero": 0},
    )
    return True


def session_meta_item(table_name: str, session_id: str) -> dict[str, Any] | None:
    """The session's META item as stored (strongly consistent), or ``None``."""
    item: dict[str, Any] | None = (
        table(table_name)
        .get_item(Key={"PK": keys.session_pk(session_id), "SK": keys.META}, ConsistentRead=True)
        .get("Item")
    )
    return item


def record_imported(table_name: str, session_id: str, imported: dict[str, Any]) -> None:
    """Store ``imported``, what the last import of the session said, on its META item."""
    table(table_name).update_item(
        Key={"PK": keys.session_pk(session_id), "SK": keys.META},
        UpdateExpression="SET imported = :imported",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues={":imported": imported},
    )


def get_session(table_name: str, session_id: str) -> SessionAvailability:
    """One session with its counters (strongly consistent)."""
    response = table(table_name).get_item(
        Key={"PK": keys.session_pk(session_id), "SK": keys.META}, ConsistentRead=True
    )
    if "Item" not in response:
        raise SessionNotFoundError(session_id)
    return availability_from_item(response["Item"])


def list_sessions(table_name: str) -> list[SessionAvailability]:
    """The whole programme in start order (Query on GSI1, paginated)."""
    return [availability_from_item(item) for item in programme_items(table_name)]


def programme_items(
    table_name: str, earliest: datetime | None = None, latest: datetime | None = None
) -> list[dict[str, Any]]:
    """META items of the programme in start order, optionally only those starting between
    ``earliest`` and ``latest`` (Query on GSI1 with a sort key range, paginated)."""
    condition: ConditionBase = Key("GSI1PK").eq(keys.PROGRAMME)
    if earliest is not None and latest is not None:
        condition &= Key("GSI1SK").between(_start_key(earliest), _start_key(latest))
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"IndexName": "GSI1", "KeyConditionExpression": condition}
    while True:
        page = table(table_name).query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def replace_session(table_name: str, session: Session, *, expected_sequence: int) -> None:
    """Store an organiser's change to a session (its counters and other attributes kept).

    Raises :class:`SessionChangedError` if the stored sequence is no longer
    ``expected_sequence``: someone changed it since it was read.
    """
    fields = {k: v for k, v in session_item(session).items() if k not in ("PK", "SK")}
    try:
        table(table_name).update_item(
            Key={"PK": keys.session_pk(session.session_id), "SK": keys.META},
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
            ConditionExpression="#sequence = :expected",
            ExpressionAttributeNames={f"#{k}": k for k in fields},
            ExpressionAttributeValues={
                **{f":{k}": v for k, v in fields.items()},
                ":expected": expected_sequence,
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        raise SessionChangedError(session.session_id) from None


def change_status(
    table_name: str, session: Session, status: SessionStatus, *, expected: Iterable[SessionStatus]
) -> Session | None:
    """Move ``session`` to ``status`` if it is in an ``expected`` status and has not been
    rescheduled since it was read; the updated session, or ``None`` if it was not."""
    allowed = {f":from{i}": s.value for i, s in enumerate(expected)}
    try:
        response = table(table_name).update_item(
            Key={"PK": keys.session_pk(session.session_id), "SK": keys.META},
            UpdateExpression="SET #status = :status",
            ConditionExpression=f"#start = :start AND #status IN ({', '.join(allowed)})",
            ExpressionAttributeNames={"#status": "status", "#start": "start"},
            ExpressionAttributeValues={
                ":status": status.value,
                ":start": session_item(session)["start"],
                **allowed,
            },
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return None
    return availability_from_item(response["Attributes"]).session


def _start_key(moment: datetime) -> str:
    """A GSI1 sort key bound, in the format session starts are stored in."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sessions_by_id(table_name: str, session_ids: Iterable[str]) -> dict[str, SessionAvailability]:
    """The named sessions that exist, keyed by id."""
    wanted = set(session_ids)
    return {
        a.session.session_id: a for a in list_sessions(table_name) if a.session.session_id in wanted
    }
