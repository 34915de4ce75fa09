"""Request bodies of the public API (payload v2): form-encoded as a browser sends them, or JSON.

:func:`read_fields` decodes the body (base64 when API Gateway says so), checks its size, media type
and charset, and returns its fields; every refusal is an :class:`IntakeError` with an HTTP status
and one message per field, never a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from shared.i18n.catalogs import N_
from shared.i18n.messages import Message

MAX_BODY_BYTES = 16 * 1024


MAX_FORM_FIELDS = 100


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


JSON_CONTENT_TYPE = "application/json"


class IntakeError(Exception):
    """The request cannot become a registration: HTTP ``status`` and ``{field: message}``
    (English; a :class:`~shared.i18n.messages.Message` is said in the page's language).

    Fields that are not form fields: ``body`` (size, encoding, syntax) and ``content_type``.
    """

    def __init__(self, status: int, errors: Mapping[str, str]) -> None:
        super().__init__(f"{status}: {', '.join(errors)}")
        self.status = status
        self.errors = dict(errors)


def invalid_request(errors: Sequence[Mapping[str, Any]]) -> IntakeError:
    """Powertools' request validation errors (pydantic's error dicts, ``loc`` like
    ``("query", "token")``) as the 400 :class:`IntakeError` the routes already answer: one
    message per parameter, the first error of each."""
    messages: dict[str, str] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        field = loc[1] if len(loc) > 1 else "body"
        if field in messages:
            continue
        label = field.replace("_", " ").capitalize()
        limit = (error.get("ctx") or {}).get("max_length")
        if error.get("type") == "missing":
            messages[field] = f"{label} is required."
        elif error.get("type") == "string_too_long" and limit is not None:
            messages[field] = f"{label} must be at most {limit} characters."
        else:
            messages[field] = f"{label} is not valid."
    return IntakeError(400, messages or {"body": "The request is not valid."})


def read_fields(
    event: Mapping[str, Any],
    *,
    labels: Mapping[str, str] | None = None,
    repeated: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The body's fields as ``{name: value}`` (a list for the names in ``repeated``); unknown
    fields are kept. ``labels`` names the known fields in messages: a known field given twice
    is refused, an unknown one given twice is dropped.

    Raises :class:`IntakeError`: 413 past :data:`MAX_BODY_BYTES`, 415 for another media type
    or charset, 400 for a body that is not valid UTF-8, form or JSON object.
    """
    labels = labels or {}
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    media_type, charset = _content_type(str(headers.get("content-type") or ""))
    if media_type not in (FORM_CONTENT_TYPE, JSON_CONTENT_TYPE):
        raise IntakeError(
            415,
            {
                "content_type": Message(
                    N_("Content type must be %(form)s or %(json)s."),
                    form=FORM_CONTENT_TYPE,
                    json=JSON_CONTENT_TYPE,
                )
            },
        )
    if charset not in ("utf-8", "utf8"):
        raise IntakeError(
            415, {"content_type": Message(N_("Content type must have charset UTF-8."))}
        )
    raw = _body_bytes(event)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8() from exc
    if media_type == FORM_CONTENT_TYPE:
        return _form_fields(text, labels, repeated)
    return _json_fields(text, labels)


def _not_utf8() -> IntakeError:
    return IntakeError(400, {"body": Message(N_("The request body is not valid UTF-8."))})


def _content_type(value: str) -> tuple[str, str]:
    media_type, *params = value.split(";")
    charset = "utf-8"
    for param in params:
        name, _, param_value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = param_value.strip().strip('"').lower()
    return media_type.strip().lower(), charset


def _too_large() -> IntakeError:
    return IntakeError(
        413,
        {
            "body": Message(
                N_("The request body must be at most %(size)s KiB."), size=MAX_BODY_BYTES // 1024
            )
        },
    )


def _body_bytes(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise IntakeError(400, {"body": Message(N_("The request body is not valid."))})
    if len(body) > (MAX_BODY_BYTES + 2) // 3 * 4:  # even as base64 it is too long
        raise _too_large()
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError as exc:  # binascii.Error, or non-ASCII characters
            not_base64 = Message(N_("The request body is not valid base64."))
            raise IntakeError(400, {"body": not_base64}) from exc
    else:
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates
            raise _not_utf8() from exc
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    return raw


def _form_fields(text: str, labels: Mapping[str, str], repeated: frozenset[str]) -> dict[str, Any]:
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError as exc:
        raise _not_utf8() from exc
    except ValueError as exc:
        too_many = N_("The form must have at most %(limit)s fields.")
        raise IntakeError(400, {"body": Message(too_many, limit=MAX_FORM_FIELDS)}) from exc
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    fields: dict[str, Any] = {}
    for name, values in grouped.items():
        if name in repeated:
            fields[name] = values
        elif len(values) == 1:
            fields[name] = values[0]
        elif name in labels:
            once = N_("%(field)s must be given only once.")
            raise IntakeError(400, {name: Message(once, field=Message(labels[name]))})
    return fields


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKeyError(key)
        document[key] = value
    return document


def _json_fields(text: str, labels: Mapping[str, str]) -> dict[str, Any]:
    not_an_object = IntakeError(
        400, {"body": Message(N_("The request body must be a JSON object."))}
    )
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as exc:
        twice = (
            Message(N_("%(field)s is given twice."), field=Message(labels[exc.key]))
            if exc.key in labels
            else Message(N_("A field is given twice."))
        )
        field = exc.key if exc.key in labels else "body"
        raise IntakeError(400, {field: twice}) from exc
    except (ValueError, RecursionError) as exc:
        raise not_an_object from exc
    if not isinstance(document, dict):
        raise not_an_object
    if isinstance(document.get("sessions"), str):
        document["sessions"] = [document["sessions"]]
    return document
