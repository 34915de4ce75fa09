"""Materials (slides, guidance notes) of a session: records, and registrants' download links.

A material is one version of one file organisers uploaded under
``sessions/{session_id}/{slides|guidance}/{file name}`` and :mod:`shared.materials.uploads`
accepted.
Its record (``PK=UPLOAD#{id}``, :mod:`shared.platform.keys`) names that exact S3 version, so a
re-upload of the same name is a new material and the old one stays as it was. A session's
*current* materials are, per kind and file name, the latest version not withdrawn.

Registrants reach them with a signed token (:mod:`shared.web.links`, purpose ``materials``) bound
to their registration, the session and an expiry: :func:`authorise` accepts it only for a
confirmed registration of that session, and :func:`download_url` then presigns a five-minute
GET of the exact version. Notices list the current materials with per-registrant links
(:func:`for_registrant`).

Uploads after a session's follow-up went out are announced in batches: each one adds to the
session's announcement item (:func:`announce_later`: due a few minutes after the first upload
of the batch, never moved later). The session clock calls :func:`announce` for each of the
:func:`due_announcements`: one "materials available" notice per registrant and batch.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from shared.i18n.catalogs import N_, catalog
from shared.i18n.languages import ENGLISH, resolve
from shared.mail.templates import Material
from shared.materials.filetypes import TYPES
from shared.platform import keys
from shared.platform.clients import client, table
from shared.platform.secrets import signing_keys
from shared.platform.settings import Settings
from shared.registrations.models import Registration, RegistrationStatus
from shared.registrations.store import (
    query_items,
    reference_registrations,
    registration_from_item,
    registration_record,
)
from shared.web import links

DOWNLOAD_SECONDS = 300
"""Lifetime of a presigned download URL."""
LINK_VALIDITY = timedelta(days=365)
"""Lifetime of the materials links sent to a registrant."""
MATERIAL = "material"


class Kind(StrEnum):
    """The folder a material is uploaded to (:data:`~shared.platform.event_types.MATERIAL_KINDS`),
    in
    the order notices list them."""

    SLIDES = "slides"
    GUIDANCE = "guidance"

    @property
    def label(self) -> str:
        """The English name; translated by :meth:`MaterialRecord.label_in`."""
        return N_("Slides") if self is Kind.SLIDES else N_("Guidance note")


@dataclass(frozen=True)
class MaterialRecord:
    """One accepted upload: one S3 object version."""

    material_id: str
    session_id: str
    kind: Kind
    file_name: str
    title: str
    size: int
    content_type: str
    key: str
    version_id: str | None
    uploaded_at: datetime
    withdrawn_at: datetime | None = None

    @property
    def label(self) -> str:
        """E.g. ``Slides: Risk mapping (PDF, 1.2 MB)``."""
        return self.label_in(None)

    def label_in(self, language: str | None) -> str:
        """:attr:`label` in ``language`` (e.g. ``Diapositivas: Risk mapping (PDF, 1,2 MB)``)."""
        _ = catalog(language).gettext
        extension = self.file_name.rpartition(".")[2].lower()
        kind = TYPES[extension].label if extension in TYPES else extension.upper()
        return _("%(kind)s: %(title)s (%(type)s, %(size)s)") % {
            "kind": _(self.kind.label),
            "title": self.title,
            "type": kind,
            "size": human_size(self.size, language),
        }

    def item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "PK": keys.upload_pk(self.material_id),
            "SK": keys.UPLOAD_SK,
            "GSI2PK": keys.materials_gsi2pk(self.session_id),
            "GSI2SK": f"{keys.sortable_time(self.uploaded_at)}#{self.material_id}",
            "type": MATERIAL,
            "material_id": self.material_id,
            "session_id": self.session_id,
            "kind": self.kind.value,
            "file_name": self.file_name,
            "title": self.title,
            "size": self.size,
            "content_type": self.content_type,
            "key": self.key,
            "uploaded_at": self.uploaded_at.isoformat(),
        }
        if self.version_id:
            item["version_id"] = self.version_id
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> MaterialRecord:
        withdrawn = item.get("withdrawn_at")
        return cls(
            material_id=str(item["material_id"]),
            session_id=str(item["session_id"]),
            kind=Kind(item["kind"]),
            file_name=str(item["file_name"]),
            title=str(item["title"]),
            size=int(item["size"]),
            content_type=str(item["content_type"]),
            key=str(item["key"]),
            version_id=item.get("version_id"),
            uploaded_at=datetime.fromisoformat(item["uploaded_at"]),
            withdrawn_at=datetime.fromisoformat(withdrawn) if withdrawn else None,
        )


def title_of(file_name: str) -> str:
    """The title a file name gives: its stem, NFC, underscores as spaces, spaces collapsed."""
    stem = unicodedata.normalize("NFC", file_name).rpartition(".")[0] or file_name
    return " ".join(stem.replace("_", " ").split())


def human_size(size: int, language: str | None = None) -> str:
    """E.g. ``512 bytes``, ``1.2 MB`` (decimal units, as file managers show them); the decimal
    separator and the word "bytes" of ``language`` (Babel, imported only for another language)."""
    if size < 1000:
        return catalog(language).gettext("%(count)s bytes") % {"count": size}
    value, unit = size / 1000, "GB"
    for candidate in ("kB", "MB"):
        if value < 1000:
            unit = candidate
            break
        value /= 1000
    if resolve(language) == ENGLISH:
        return f"{value:.1f} {unit}"
    from babel.numbers import format_decimal

    return f"{format_decimal(round(value, 1), format='0.0', locale=resolve(language))} {unit}"


# --- records ------------------------------------------------------------------------------


class MaterialNotFoundError(LookupError):
    """No material with that id."""


def get_material(table_name: str, material_id: str) -> MaterialRecord:
    item = upload_item(table_name, material_id)
    if item is None or item.get("type") != MATERIAL:
        raise MaterialNotFoundError(material_id)
    return MaterialRecord.from_item(item)


def upload_item(table_name: str, upload_id: str) -> dict[str, Any] | None:
    """The record of one upload (a material or a quarantined upload), if any."""
    key = {"PK": keys.upload_pk(upload_id), "SK": keys.UPLOAD_SK}
    return table(table_name).get_item(Key=key, ConsistentRead=True).get("Item")


def session_materials(table_name: str, session_id: str) -> list[MaterialRecord]:
    """Every material of the session, every version, withdrawn ones too; oldest first."""
    condition = Key("GSI2PK").eq(keys.materials_gsi2pk(session_id))
    items = query_items(table_name, IndexName="GSI2", KeyConditionExpression=condition)
    return [MaterialRecord.from_item(item) for item in items]


def current(records: Iterable[MaterialRecord]) -> list[MaterialRecord]:
    """Per kind and file name, the latest version not withdrawn; slides first, then by title."""
    latest: dict[tuple[str, str], MaterialRecord] = {}
    for record in sorted(records, key=lambda r: r.uploaded_at):
        if record.withdrawn_at is None:
            latest[(record.kind, unicodedata.normalize("NFC", record.file_name))] = record
    return sorted(latest.values(), key=lambda r: (list(Kind).index(r.kind), r.title.casefold()))


def current_materials(table_name: str, session_id: str) -> list[MaterialRecord]:
    """The session's current materials (see :func:`current`)."""
    return current(session_materials(table_name, session_id))


def withdraw(table_name: str, material_id: str, now: datetime) -> MaterialRecord:
    """Withdraw a material: its links stop working at once. Withdrawing again changes nothing."""
    try:
        response = table(table_name).update_item(
            Key={"PK": keys.upload_pk(material_id), "SK": keys.UPLOAD_SK},
            UpdateExpression="SET withdrawn_at = if_not_exists(withdrawn_at, :now)",
            ConditionExpression="#type = :material",
            ExpressionAttributeNames={"#type": "type"},
            ExpressionAttributeValues={":now": now.isoformat(), ":material": MATERIAL},
            ReturnValues="ALL_NEW",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        raise MaterialNotFoundError(material_id) from None
    return MaterialRecord.from_item(response["Attributes"])


# --- registrants' access ------------------------------------------------------------------


class AccessDeniedError(PermissionError):
    """The request does not open these materials (``reason`` is logged, never shown)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def token_for(registration: Registration, *, settings: Settings, now: datetime) -> str:
    """The registrant's materials token for their session (valid :data:`LINK_VALIDITY`)."""
    return links.materials_token(
        reference=registration.reference,
        session_id=registration.session_id,
        email=registration.email,
        expires_at=now + LINK_VALIDITY,
        key=signing_keys(settings)[0],
    )


def for_registrant(
    records: Sequence[MaterialRecord],
    registration: Registration,
    *,
    settings: Settings,
    now: datetime,
) -> list[Material]:
    """``records`` as a notice lists them for one registrant: labels and their own links."""
    if not records:
        return []
    token = token_for(registration, settings=settings, now=now)
    return [
        Material(
            r.label_in(registration.language),
            links.material_url(settings.public_base_url, r.material_id, token),
        )
        for r in records
    ]


def authorise(
    token: str | None, session_id: str, *, settings: Settings, now: datetime
) -> Registration:
    """The registration a materials token names, if the token is genuine and unexpired, is for
    ``session_id``, and the registration is confirmed now; else :class:`AccessDeniedError`."""
    claims = _verified(token, settings, now)
    if claims.session_id != session_id:
        raise AccessDeniedError("other session")
    return _registrant(settings.table_name, claims)


def download_url(token: str | None, material_id: str, *, settings: Settings, now: datetime) -> str:
    """A presigned URL, valid :data:`DOWNLOAD_SECONDS`, of the material's exact version, for
    a registrant of its session (see :func:`authorise`); else :class:`AccessDeniedError`."""
    claims = _verified(token, settings, now)
    try:
        material = get_material(settings.table_name, material_id)
    except MaterialNotFoundError:
        raise AccessDeniedError("no such material") from None
    if claims.session_id != material.session_id:
        raise AccessDeniedError("other session")
    _registrant(settings.table_name, claims)
    if material.withdrawn_at is not None:
        raise AccessDeniedError("withdrawn")
    params: dict[str, Any] = {
        "Bucket": settings.bucket_name,
        "Key": material.key,
        "ResponseContentType": material.content_type,
        "ResponseContentDisposition": _attachment(material.file_name),
    }
    if material.version_id:
        params["VersionId"] = material.version_id
    return str(
        client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=DOWNLOAD_SECONDS)
    )


def _verified(token: str | None, settings: Settings, now: datetime) -> links.LinkClaims:
    if not token:
        raise AccessDeniedError("no token")
    try:
        return links.verify(token, signing_keys(settings), purpose=links.MATERIALS, now=now)
    except links.InvalidLinkError as exc:
        raise AccessDeniedError(exc.reason) from None


def _registrant(table_name: str, claims: links.LinkClaims) -> Registration:
    """The confirmed registration the claims name (by reference, session and address hash)."""
    named = [
        r
        for r in reference_registrations(table_name, claims.reference)
        if r.session_id == claims.session_id and claims.is_for(r.email)
    ]
    # The index is eventually consistent: the item itself has the last word.
    item = registration_record(table_name, claims.session_id, named[0].email) if named else None
    if item is None or item.get("reference") != claims.reference:
        raise AccessDeniedError("no registration")
    registration = registration_from_item(item)
    if registration.status is not RegistrationStatus.CONFIRMED:
        raise AccessDeniedError("not confirmed")
    return registration


def _attachment(file_name: str) -> str:
    """``Content-Disposition`` saving as ``file_name`` (RFC 6266; an ASCII fallback too)."""
    name = unicodedata.normalize("NFC", file_name)
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = "".join(c if c.isalnum() or c in " ._-()" else "_" for c in fallback) or "material"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
