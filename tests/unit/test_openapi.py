"""The OpenAPI document (``openapi.json``): committed as generated, every wiring route in it, the
answers and parameters documented; and Powertools' request validation answered as a 400 with one
message per field."""

from __future__ import annotations

import copy
import json
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from infra.wiring import FUNCTIONS, HttpRoute
from kbs import openapi
from shared.registrations import intake
from shared.web import forms, pages
from shared.web.link_routes import LinkNotices, LinkRoutes
from tests.conftest import load_event
from tests.support import Context

DOCUMENT = json.loads(openapi.DOCUMENT.read_text(encoding="utf-8"))
OPERATIONS = {
    (method.upper(), path): operation
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
}
LINK_ROUTES = {"/registrations/cancel", "/unsubscribe", "/privacy", "/privacy/export"}


def test_the_committed_document_is_the_generated_one() -> None:
    assert openapi.DOCUMENT.read_text(encoding="utf-8") == openapi.rendered(), (
        "openapi.json is stale: run make openapi"
    )
    assert openapi.main(["--check"]) == 0


def test_every_route_of_the_wiring_is_documented_and_nothing_else() -> None:
    wired = {(r.method, r.path) for fn in FUNCTIONS for r in fn.of_kind(HttpRoute)}
    assert set(OPERATIONS) == wired
    assert len(OPERATIONS) == 18
    ids = [operation["operationId"] for operation in OPERATIONS.values()]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("key", sorted(OPERATIONS), ids=" ".join)
def test_each_operation_documents_its_answers(key: tuple[str, str]) -> None:
    method, path = key
    responses = OPERATIONS[key]["responses"]
    assert "422" not in responses  # Powertools' validation error is answered as a 400
    assert "Retry-After" in responses["503"]["headers"]
    assert any(status.startswith(("2", "3")) for status in responses)
    for status, response in responses.items():
        assert response["description"], status
        content = response.get("content", {})
        assert status == "302" or content, status
        if "application/json" in content:
            assert "$ref" in json.dumps(content["application/json"]) or path.endswith("export")
    if path.startswith(tuple(LINK_ROUTES)) or "materials" in path:
        (token,) = [p for p in OPERATIONS[key]["parameters"] if p["name"] == "token"]
        assert token["in"] == "query" and token["required"] is False
    for name in ("session_id", "material_id"):
        if "{" + name + "}" in path:
            (param,) = [p for p in OPERATIONS[key]["parameters"] if p["name"] == name]
            assert param["in"] == "path" and param["required"] is True
    if method == "POST" and path != "/registrations":
        assert {"413", "415", "400"} <= set(responses)
        body = OPERATIONS[key]["requestBody"]["content"]
        assert set(body) == {"application/x-www-form-urlencoded", "application/json"}


def test_the_registration_body_lists_the_form_fields() -> None:
    body = OPERATIONS[("POST", "/registrations")]["requestBody"]
    assert body["required"] is True
    for schema in (c["schema"] for c in body["content"].values()):
        assert set(schema["properties"]) == set(intake.LABELS)
        assert set(schema["required"]) == set(intake.REQUIRED_MESSAGES)
        assert schema["properties"]["email"]["maxLength"] == intake.TEXT_LIMITS["email"]
    responses = OPERATIONS[("POST", "/registrations")]["responses"]
    assert set(responses) == {"202", "400", "413", "415", "503"}
    assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith("FieldErrors")
    assert responses["503"]["content"]["application/json"]["schema"]["$ref"].endswith("Unavailable")
    assert "text/html" in responses["202"]["content"]


def test_a_validation_error_becomes_one_message_per_field() -> None:
    error = forms.invalid_request(
        [
            {"loc": ("query", "count"), "type": "int_parsing", "msg": "..."},
            {"loc": ("query", "count"), "type": "greater_than", "msg": "..."},
            {"loc": ("query", "name"), "type": "string_too_long", "ctx": {"max_length": 8}},
            {"loc": ("query", "session_id"), "type": "missing"},
        ]
    )
    assert error.status == 400
    assert error.errors == {
        "count": "Count is not valid.",
        "name": "Name must be at most 8 characters.",
        "session_id": "Session id is required.",
    }


def _routes_with_a_validated_query() -> LinkRoutes:
    """Test-only: a link resolver with an integer query parameter Powertools can refuse."""
    routes = LinkRoutes(
        LinkNotices(
            missing=pages.MISSING_LINK,
            invalid=pages.INVALID_LINK,
            expired=pages.EXPIRED_LINK,
            refused_metric="TestRefused",
            refused_log="Test refused",
        )
    )

    @routes.app.get("/registrations/cancel")
    def counted(count: Annotated[int, Query(gt=0)]) -> Response[str]:
        return routes.answer(pages.CANCELLED, details={"count": count})

    return routes


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({"count": "3"}, 200, None),
        ({"count": "three"}, 400, "Count is not valid."),
        ({"count": "0"}, 400, "Count is not valid."),
        ({}, 400, "Count is required."),
    ],
)
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_link_routes_answer_a_refused_query_as_their_400(
    query: dict[str, str], status: int, message: str | None, accept: str
) -> None:
    routes = _routes_with_a_validated_query()
    event: dict[str, Any] = copy.deepcopy(load_event("api/get-cancel-link.json"))
    event["queryStringParameters"] = query
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    event["headers"]["accept"] = accept

    answer = routes.app.resolve(event, Context())  # type: ignore[arg-type]

    assert answer["statusCode"] == status
    if accept == "text/html":
        assert answer["headers"]["Content-Type"] == "text/html; charset=utf-8"
        assert message is None or message in answer["body"]
    elif message is None:
        assert json.loads(answer["body"])["count"] == 3
    else:
        body = json.loads(answer["body"])
        assert body["status"] == "bad_request"
        assert body["message"] == f"{message} {pages.UNCHANGED}"
