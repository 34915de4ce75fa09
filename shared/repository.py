"""Data access for sessions (the programme): DynamoDB items in, domain models out.

Layout and access patterns: :mod:`shared.keys`. Booking counters (``confirmed``,
``waitlisted``) live on the session's META item so capacity checks are atomic.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.conditions import Key

from shared import keys
from shared.clients import table
from shared.models import Session, SessionAvailability

_SESSION_FIELDS = tuple(Session.model_fields)


class SessionNotFoundError(LookupError):
    """No session with that id."""


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


def put_session(table_name: str, session: Session) -> bool:
    """Create or update a session, keeping its booking counters.

    Returns ``True`` if anything changed (so a repeated import emits no event).
    """
    item = session_item(session)
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
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "IndexName": "GSI1",
        "KeyConditionExpression": Key("GSI1PK").eq(keys.PROGRAMME),
    }
    while True:
        page = table(table_name).query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [availability_from_item(item) for item in items]


def sessions_by_id(table_name: str, session_ids: Iterable[str]) -> dict[str, SessionAvailability]:
    """The named sessions that exist, keyed by id."""
    wanted = set(session_ids)
    return {
        a.session.session_id: a for a in list_sessions(table_name) if a.session.session_id in wanted
    }
