"""Answers of the public HTTP API (payload v2): JSON, or an HTML page with its security headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from shared import pages


def request_time(event: APIGatewayProxyEventV2) -> datetime:
    """The request's time (API Gateway's ``timeEpoch``), never the wall clock."""
    return datetime.fromtimestamp(event.request_context.time_epoch / 1000, tz=UTC)


def wants_html(event: APIGatewayProxyEventV2) -> bool:
    """Whether the client's ``Accept`` prefers a page to JSON (a browser)."""
    return pages.prefers_html(event.headers.get("accept"))


def json_response(
    status: int, body: Any, headers: dict[str, str] | None = None, cache_seconds: int = 0
) -> Response:
    cache_control = f"public, max-age={cache_seconds}" if cache_seconds else "no-store"
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, ensure_ascii=False),
        headers={"Cache-Control": cache_control, **(headers or {})},
    )


def html_response(status: int, page: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=page,
        headers={**pages.security_headers(page), **(headers or {})},
    )
