"""The public API's answers as the OpenAPI document describes them (``openapi.json``).

The handlers pass these to their route decorators (``responses=``, ``openapi_extensions=``);
Powertools turns them into the document (``kbs.openapi`` merges the five resolvers' documents).
The JSON bodies are pydantic models with ``defer_build``: declaring them costs a cold start
almost nothing, their schema is built only when the document is generated. Each helper returns
fresh dicts: Powertools rewrites a response's ``model`` into a ``schema`` in place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

HTML = "text/html"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

QueryToken = Annotated[
    str | None,
    Query(description="The signed token of the link in the registrant's email."),
]
"""The ``token`` query parameter of the signed-link routes. Optional, with no constraint: a
missing token is a 400 notice, a malformed or overlong one a 403 (the links' contract), and a
POST may carry it in its body instead."""
PathId = Annotated[str, Path(min_length=1)]
"""A session or material id in the path."""


class _Doc(BaseModel):
    model_config = ConfigDict(defer_build=True)


class FieldErrors(_Doc):
    """A refused request: one message per field (``body`` and ``content_type`` name the request
    itself)."""

    errors: dict[str, str]


class Unavailable(_Doc):
    """A failed dependency: nothing was recorded; retry after ``retry_after`` seconds."""

    message: str
    retry_after: int


class Notice(_Doc):
    """An outcome told to a person: a code for JSON clients and the sentence a page shows."""

    model_config = ConfigDict(defer_build=True, extra="allow")

    status: str
    message: str


class PublicSession(_Doc):
    """What anyone may see of an open session (never its join link)."""

    session_id: str
    title: str
    kind: str
    category: str
    description: str
    speakers: list[str]
    start: str
    timezone: str
    duration_minutes: int
    status: str
    capacity: int
    places_left: int


class Received(_Doc):
    """A registration accepted for processing; the email tells the outcome."""

    reference: str
    sessions: list[str]
    status: Literal["received"]


class SessionRef(_Doc):
    session_id: str
    title: str
    start: str
    end: str
    timezone: str


class CancelLink(_Doc):
    """What a cancel link would cancel (``status``: confirmed or waitlisted)."""

    status: str
    reference: str
    session: SessionRef


class Subscription(_Doc):
    status: Literal["subscribed"]
    reference: str


class PrivacyChoices(_Doc):
    status: Literal["ok"]
    actions: list[str]


class MaterialSession(_Doc):
    session_id: str
    title: str


class Material(_Doc):
    material_id: str
    title: str
    kind: str
    file_name: str
    size: int
    content_type: str
    uploaded_at: str
    url: str


class Materials(_Doc):
    """A session's current materials, each with its download link (valid as the token is)."""

    session: MaterialSession
    materials: list[Material]


MODELS = (
    FieldErrors,
    Unavailable,
    Notice,
    PublicSession,
    Received,
    CancelLink,
    Subscription,
    PrivacyChoices,
    Materials,
)

_MEANING = {
    400: "Missing or unreadable input: one message per field, nothing changed",
    403: "The link is not valid, or expired: nothing changed",
    404: "Nothing is held for this link: nothing changed",
    409: "The session is over: nothing left to change",
    413: "The body is too large (16 KiB at most)",
    415: "The body is neither form-encoded nor JSON, or not UTF-8",
    503: "A dependency failed and nothing was recorded: try again",
}


def answer(
    description: str, model: type[BaseModel] | None = None, *, page: bool = True
) -> OpenAPIResponse:
    """An OpenAPI response: JSON (``model``'s schema) and/or an HTML page."""
    content: dict[str, Any] = {}
    if model is not None:
        content[JSON] = {"model": model}
    if page:
        content[HTML] = {"schema": {"type": "string"}}
    return cast("OpenAPIResponse", {"description": description, "content": content})


def errors(*statuses: int, model: type[BaseModel] = Notice) -> dict[int, OpenAPIResponse]:
    """The refusals ``statuses`` as pages or JSON ``model`` bodies; 503s carry ``Retry-After``
    and, with a :class:`FieldErrors` model, the :class:`Unavailable` body."""
    documented: dict[int, OpenAPIResponse] = {}
    for status in statuses:
        unavailable = status == 503 and model is FieldErrors
        documented[status] = answer(_MEANING[status], Unavailable if unavailable else model)
        if status == 503:
            documented[status]["headers"] = {
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
            }
    return documented


def token_body() -> dict[str, Any]:
    """The body of a signed-link POST: the token (absent when it is in the URL)."""
    schema = {
        "type": "object",
        "properties": {"token": {"type": "string"}},
    }
    return {
        "requestBody": {
            "required": False,
            "content": {FORM: {"schema": dict(schema)}, JSON: {"schema": dict(schema)}},
        }
    }


LANG_PARAMETER: dict[str, Any] = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": (
        "The page language (en, es, ca, fr, de, nl, sv, pl, it): the page's words and the "
        "messages of a refusal; otherwise the Accept-Language header decides, else English"
    ),
    "schema": {"type": "string", "maxLength": 35},
}
"""The ``?lang=`` of the registration page and of the form it posts."""
