"""Announcing materials uploaded after a session: one email per batch of uploads a few minutes
apart.

An upload after the session's end schedules an announcement (:func:`announce_later`); the
session clock closes each batch once it has been quiet for a while (:func:`due_announcements`,
:func:`close_announcement`) and fans the announcement out to the registrants (:func:`announce`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from shared.materials.library import current_materials
from shared.notices.fanout import fan_out
from shared.notices.kinds import NoticeKind
from shared.platform import keys
from shared.platform.clients import table
from shared.platform.settings import Settings
from shared.programme.models import SessionStatus
from shared.programme.repository import SessionNotFoundError, get_session
from shared.registrations.store import (
    query_items,
)

ANNOUNCEMENT_DELAY = timedelta(minutes=5)
"""Uploads within this time of the first one of a batch are announced together."""


@dataclass(frozen=True)
class Announcement:
    """Uploads of a session not announced yet, due at ``due``."""

    session_id: str
    due: datetime
    uploads: int

    @property
    def version(self) -> str:
        """Names the batch: one email per registrant per version."""
        return keys.sortable_time(self.due)


def announce_later(session_id: str, uploaded_at: datetime) -> dict[str, Any]:
    """The transaction item adding one upload to the session's announcement: due
    :data:`ANNOUNCEMENT_DELAY` after the first upload of the batch, never moved later."""
    due = uploaded_at + ANNOUNCEMENT_DELAY
    return {
        "Key": {"PK": keys.session_pk(session_id), "SK": keys.MATERIALS_DUE},
        "UpdateExpression": "SET #due = if_not_exists(#due, :due), GSI1PK = :index, "
        "GSI1SK = if_not_exists(GSI1SK, :due_key), session_id = :session ADD uploads :one",
        "ExpressionAttributeNames": {"#due": "due"},
        "ExpressionAttributeValues": {
            ":due": due.isoformat(),
            ":due_key": keys.sortable_time(due),
            ":index": keys.MATERIALS_DUE,
            ":session": session_id,
            ":one": 1,
        },
    }


def due_announcements(table_name: str, now: datetime) -> list[Announcement]:
    """Announcements due at ``now`` (Query on GSI1)."""
    condition = Key("GSI1PK").eq(keys.MATERIALS_DUE) & Key("GSI1SK").lte(keys.sortable_time(now))
    items = query_items(table_name, IndexName="GSI1", KeyConditionExpression=condition)
    return [
        Announcement(
            session_id=str(item["session_id"]),
            due=datetime.fromisoformat(item["due"]),
            uploads=int(item["uploads"]),
        )
        for item in items
    ]


def close_announcement(table_name: str, announcement: Announcement, now: datetime) -> bool:
    """Mark ``announcement`` sent. Uploads that arrived since it was read stay pending, as a
    new batch due :data:`ANNOUNCEMENT_DELAY` from ``now``. ``False`` if another worker closed
    it first."""
    records = table(table_name)
    key = {"PK": keys.session_pk(announcement.session_id), "SK": keys.MATERIALS_DUE}
    following = now + ANNOUNCEMENT_DELAY
    try:
        records.update_item(
            Key=key,
            UpdateExpression="SET #due = :next, GSI1SK = :next_key ADD uploads :minus",
            ConditionExpression="#due = :due",
            ExpressionAttributeNames={"#due": "due"},
            ExpressionAttributeValues={
                ":next": following.isoformat(),
                ":next_key": keys.sortable_time(following),
                ":minus": -announcement.uploads,
                ":due": announcement.due.isoformat(),
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    try:
        records.delete_item(
            Key=key,
            ConditionExpression="uploads <= :zero",
            ExpressionAttributeValues={":zero": 0},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    return True


def announce(announcement: Announcement, *, now: datetime, settings: Settings) -> bool:
    """Fan the "materials available" notice of ``announcement`` out to the session's
    registrants (if the session ended and has materials not withdrawn; one email each per
    batch: its version is in the send key), then close it. Whether it was fanned out; a
    repeat only re-enqueues what is sent once anyway."""
    table_name = settings.table_name
    try:
        session = get_session(table_name, announcement.session_id).session
    except SessionNotFoundError:
        session = None
    ended = session is not None and session.status is SessionStatus.ENDED
    news = ended and bool(current_materials(table_name, announcement.session_id))
    if session is not None and news:  # not if all were withdrawn meanwhile
        fan_out(
            table_name,
            settings.email_batches_queue_url,
            NoticeKind.MATERIALS,
            session,
            moment=now,
            notice_version=announcement.version,
        )
    close_announcement(table_name, announcement, now)
    return news
