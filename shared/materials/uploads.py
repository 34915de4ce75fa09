"""Uploads to the materials bucket: each S3 "Object Created" under ``sessions/`` is checked,
then recorded as a material or moved to quarantine with its reason.

Checks, in order: the key is ``sessions/{session_id}/{slides|guidance}/{file name}`` (no
sub-folders; a file name of any script, spaces welcome, but not empty, dot-only, over 255
bytes or with control or invisible characters); the session is in the programme; the
extension is an accepted type; the file is neither empty nor over the size limit; its content
is what the extension says (:mod:`shared.materials.filetypes`, read with ranged GETs) and
could not hurt its readers (:mod:`shared.materials.hazards`: no PDF JavaScript, launch
actions or embedded files; no ZIP bomb). An upload for a cancelled session is refused too.
File names are NFC-normalised first, so one visible name is one material, with versions.

An accepted upload becomes a material record (:mod:`shared.materials.library`), joined in the same
transaction to the session's pending announcement if the follow-up went out already (later
uploads are news; earlier ones are listed by the reminders and the follow-up). A rejected one
is recorded with its reason, copied to ``quarantine/{upload id}/{file name}``, its version
deleted from ``sessions/`` (an earlier version of the same name becomes current again), and
the organisers are emailed once.

Idempotent: the record is keyed by the upload id (bucket, key, version), so a replayed event
finds it and changes nothing; a quarantine interrupted half-way is completed by the replay.
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from enum import StrEnum
from typing import Any
from urllib.parse import unquote_plus

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import TypeAdapter, ValidationError

from shared.mail import sending, templates
from shared.materials import announcements, library
from shared.materials.filetypes import TYPES, MacrosError, sniff
from shared.materials.hazards import UnsafeContentError, check_pdf
from shared.materials.library import Kind, MaterialRecord
from shared.notices.kinds import NoticeKind, version
from shared.platform import keys
from shared.platform.clients import client, table, transact_write
from shared.platform.event_types import MATERIALS_PREFIX, QUARANTINE_PREFIX
from shared.platform.observability import logger
from shared.platform.settings import Settings
from shared.programme import milestones
from shared.programme.models import Session, SessionId, SessionStatus
from shared.programme.repository import availability_from_item
from shared.registrations.store import cancellation_reasons, query_items

FILE_NAME_MAX_BYTES = 255
QUARANTINED = "quarantined"
_SESSION_ID: TypeAdapter[str] = TypeAdapter(SessionId)
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_GONE = {"NoSuchKey", "NoSuchVersion", "404", "400"}


class Outcome(StrEnum):
    RECORDED = "recorded"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Upload:
    """One S3 "Object Created" event, as its ``detail`` tells it."""

    bucket: str
    key: str
    """As in the event: URL-encoded by S3 in AWS (``+`` for a space), plain from moto."""
    size: int
    version_id: str | None
    etag: str
    sequencer: str
    uploaded_at: datetime

    @property
    def upload_id(self) -> str:
        """26 characters naming this object version (the material id, if accepted)."""
        version_id = self.version_id or f"{self.etag}/{self.sequencer}"
        digest = hashlib.sha256(f"{self.bucket}\n{self.key}\n{version_id}".encode()).digest()
        return base64.b32encode(digest[:16]).decode().rstrip("=").lower()


class RejectedError(ValueError):
    """The upload is not acceptable: ``reason`` (a code) and a message for the organisers."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class MaterialKey:
    session_id: str
    kind: Kind
    file_name: str
    extension: str


def parse_key(key: str) -> MaterialKey:
    """The parts of a materials key, checked (see module doc); else :class:`RejectedError`."""
    parts = key.split("/")
    if len(parts) != 4 or f"{parts[0]}/" != MATERIALS_PREFIX:
        raise RejectedError(
            "misplaced",
            "Materials go directly in sessions/{session id}/slides/ or "
            "sessions/{session id}/guidance/, with no sub-folders.",
        )
    _, session_id, kind, name = parts
    try:
        _SESSION_ID.validate_python(session_id)
    except ValidationError:
        raise RejectedError(
            "unknown_session", "The folder does not name a session of the programme."
        ) from None
    if kind not in {k.value for k in Kind}:
        raise RejectedError("unknown_kind", "The folder must be slides or guidance.")
    check_file_name(name)
    # One visible name, one material: NFD (macOS) and NFC spellings name the same one.
    name = unicodedata.normalize("NFC", name)
    extension = name.rpartition(".")[2].lower()
    if extension not in TYPES:
        raise RejectedError(
            "unsupported_type",
            "Only PDF, PowerPoint (.pptx), Word (.docx) and OpenDocument (.odp, .odt) files are "
            "accepted.",
        )
    return MaterialKey(session_id, Kind(kind), name, extension)


def check_file_name(name: str) -> None:
    stem, dot, _ = name.rpartition(".")
    if not name.strip() or not dot or not stem.strip(" ."):
        raise RejectedError("bad_name", "The file name is empty or has no name before its type.")
    if len(name.encode()) > FILE_NAME_MAX_BYTES:
        raise RejectedError("bad_name", f"The file name is over {FILE_NAME_MAX_BYTES} bytes.")
    if "\\" in name or any(unicodedata.category(c) in _INVISIBLE for c in name):
        raise RejectedError(
            "bad_name", "The file name contains control or invisible characters, or a backslash."
        )


# --- processing ---------------------------------------------------------------------------


def process_upload(upload: Upload, *, settings: Settings) -> Outcome:
    """Check ``upload`` and record it, or quarantine it (see module doc)."""
    facts = {"upload_id": upload.upload_id}
    if upload.bucket != settings.bucket_name:
        logger.warning("Upload to another bucket ignored", extra=facts)
        return Outcome.IGNORED
    existing = library.upload_item(settings.table_name, upload.upload_id)
    if existing is not None:
        if existing["type"] == QUARANTINED:
            _finish_quarantine(existing, settings)
        logger.info("Upload seen before", extra=facts)
        return Outcome.DUPLICATE
    located = _locate(upload)
    if located is None:
        logger.info("Upload gone before it was checked", extra=facts)
        return Outcome.IGNORED
    key, size = located
    try:
        record, session_item = _inspect(upload, key, size, settings)
    except RejectedError as rejected:
        logger.info("Upload rejected", extra={**facts, "reason": rejected.reason})
        _finish_quarantine(_record_rejection(upload, key, rejected, settings), settings)
        return Outcome.QUARANTINED
    announce = _follow_up_sent(session_item)
    if not _record(settings.table_name, record, announce=announce):
        return Outcome.DUPLICATE
    logger.info(
        "Material recorded",
        extra={**facts, "session_id": record.session_id, "kind": record.kind, "announce": announce},
    )
    return Outcome.RECORDED


def _locate(upload: Upload) -> tuple[str, int] | None:
    """The object's actual key and size: S3 URL-encodes keys in events, moto does not, so
    try the decoded key first, then the key as given. ``None`` if the version is gone."""
    for key in dict.fromkeys([unquote_plus(upload.key), upload.key]):
        try:
            head = client("s3").head_object(Bucket=upload.bucket, Key=key, **_version(upload))
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _GONE:
                raise
            continue
        return key, int(head["ContentLength"])
    return None


def _inspect(
    upload: Upload, key: str, size: int, settings: Settings
) -> tuple[MaterialRecord, dict[str, Any]]:
    """The material ``upload`` makes and its session's META item; else :class:`RejectedError`."""
    parsed = parse_key(key)
    item = (
        table(settings.table_name)
        .get_item(
            Key={"PK": keys.session_pk(parsed.session_id), "SK": keys.META}, ConsistentRead=True
        )
        .get("Item")
    )
    if item is None:
        raise RejectedError(
            "unknown_session", f"There is no session {parsed.session_id} in the programme."
        )
    if availability_from_item(item).session.status is SessionStatus.CANCELLED:
        raise RejectedError(
            "cancelled_session", f"The session {parsed.session_id} has been cancelled."
        )
    if size == 0:
        raise RejectedError("empty", "The file is empty.")
    if size > settings.material_max_bytes:
        raise RejectedError(
            "too_large",
            f"The file is {library.human_size(size)}; the limit is "
            f"{library.human_size(settings.material_max_bytes)}.",
        )
    expected = TYPES[parsed.extension]
    read = _reader(upload, key)
    try:
        found = sniff(read, size)
        if found == "pdf" == parsed.extension:
            check_pdf(read(0, size))
    except MacrosError:
        raise RejectedError("macros", "The file contains macros, which are not accepted.") from None
    except UnsafeContentError as unsafe:
        raise RejectedError(unsafe.reason, str(unsafe)) from None
    if found != parsed.extension:
        actual = f"a {TYPES[found].label} .{found} file" if found else "of no accepted type"
        raise RejectedError(
            "wrong_content",
            f"The name ends in .{parsed.extension} but the content is {actual}, not "
            f"{expected.label}.",
        )
    record = MaterialRecord(
        material_id=upload.upload_id,
        session_id=parsed.session_id,
        kind=parsed.kind,
        file_name=parsed.file_name,
        title=library.title_of(parsed.file_name),
        size=size,
        content_type=expected.content_type,
        key=key,
        version_id=upload.version_id,
        uploaded_at=upload.uploaded_at,
    )
    return record, item


def _reader(upload: Upload, key: str) -> Any:
    def read(offset: int, length: int) -> bytes:
        response = client("s3").get_object(
            Bucket=upload.bucket,
            Key=key,
            Range=f"bytes={offset}-{offset + length - 1}",
            **_version(upload),
        )
        return bytes(response["Body"].read())

    return read


def _follow_up_sent(session_item: dict[str, Any]) -> bool:
    """Whether the session's follow-up (which lists the materials so far) went out already."""
    session: Session = availability_from_item(session_item).session
    if session.status is not SessionStatus.ENDED:
        return False
    return milestones.settled(
        session_item, NoticeKind.FOLLOW_UP.value, version(NoticeKind.FOLLOW_UP, session)
    )


def _record(table_name: str, record: MaterialRecord, *, announce: bool) -> bool:
    """Store the material (and announce it later); ``False`` if it was stored before."""
    actions: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table_name,
                "Item": record.item(),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
    ]
    if announce:
        later = announcements.announce_later(record.session_id, record.uploaded_at)
        actions.append({"Update": {"TableName": table_name, **later}})
    try:
        transact_write(table_name, actions)
    except ClientError as exc:
        first, *_ = cancellation_reasons(exc)
        if first["Code"] == "ConditionalCheckFailed":
            return False
        raise
    return True


# --- quarantine ---------------------------------------------------------------------------


def _record_rejection(
    upload: Upload, key: str, rejected: RejectedError, settings: Settings
) -> dict[str, Any]:
    """The quarantine record (stored if new; a concurrent duplicate's record otherwise)."""
    name = "".join(
        c if unicodedata.category(c) not in _INVISIBLE else "_" for c in key.rpartition("/")[2]
    )
    item: dict[str, Any] = {
        "PK": keys.upload_pk(upload.upload_id),
        "SK": keys.UPLOAD_SK,
        "GSI2PK": keys.QUARANTINE,
        "GSI2SK": f"{keys.sortable_time(upload.uploaded_at)}#{upload.upload_id}",
        "type": QUARANTINED,
        "upload_id": upload.upload_id,
        "key": key,
        "size": upload.size,
        "reason": rejected.reason,
        "message": str(rejected),
        "uploaded_at": upload.uploaded_at.isoformat(),
        "quarantine_key": f"{QUARANTINE_PREFIX}{upload.upload_id}/{name[:200] or 'file'}",
        "moved": False,
    }
    if upload.version_id:
        item["version_id"] = upload.version_id
    try:
        table(settings.table_name).put_item(
            Item=item, ConditionExpression="attribute_not_exists(PK)"
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return library.upload_item(settings.table_name, upload.upload_id) or item
    return item


def _finish_quarantine(item: dict[str, Any], settings: Settings) -> None:
    """Move the upload to its quarantine key (once) and tell the organisers (once)."""
    if not item.get("moved"):
        source = {"Bucket": settings.bucket_name, "Key": item["key"]}
        version_id = item.get("version_id")
        if version_id:
            source["VersionId"] = version_id
        s3 = client("s3")
        try:
            s3.copy(source, settings.bucket_name, item["quarantine_key"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _GONE:
                raise
        try:
            s3.delete_object(**source)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _GONE:
                raise
        table(settings.table_name).update_item(
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="SET moved = :true",
            ExpressionAttributeValues={":true": True},
        )
    sending.send_once(
        settings.table_name,
        f"material-rejected#{item['upload_id']}",
        rejection_message(item, settings),
        configuration_set=settings.configuration_set,
    )


def rejection_message(item: Mapping[str, Any], settings: Settings) -> EmailMessage:
    """The organisers' email about a quarantined upload (``item``: its upload record)."""
    content = templates.material_rejected(item["key"], item["message"], item["quarantine_key"])
    return sending.build_message(
        sender=settings.sender_email,
        recipient=settings.organiser_email,
        recipient_name="Knowledge Building Series organisers",
        content=content,
        date=datetime.fromisoformat(item["uploaded_at"]),
        kind="material-rejected",
        brand=templates.brand_of(settings),
    )


def _version(upload: Upload) -> dict[str, str]:
    return {"VersionId": upload.version_id} if upload.version_id else {}


@dataclass(frozen=True)
class Quarantined:
    """A rejected upload, as the organisers see it."""

    upload_id: str
    key: str
    reason: str
    message: str
    quarantine_key: str
    uploaded_at: datetime


def quarantined(table_name: str) -> list[Quarantined]:
    """Every rejected upload, oldest first (Query on GSI2)."""
    condition = Key("GSI2PK").eq(keys.QUARANTINE)
    return [
        Quarantined(
            upload_id=str(item["upload_id"]),
            key=str(item["key"]),
            reason=str(item["reason"]),
            message=str(item["message"]),
            quarantine_key=str(item["quarantine_key"]),
            uploaded_at=datetime.fromisoformat(item["uploaded_at"]),
        )
        for item in query_items(table_name, IndexName="GSI2", KeyConditionExpression=condition)
    ]
