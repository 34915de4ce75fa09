"""Answers of the public HTTP API (payload v2): JSON, or an HTML page with its security headers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from shared.platform.observability import logger, metrics, tracer
from shared.web import pages

RETRY_AFTER_SECONDS = 30
"""What a 503 asks the client to wait before trying again (``Retry-After``, RFC 9110 10.2.3)."""

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def http_handler(app: APIGatewayHttpResolver) -> LambdaHandler:
    """The Lambda entry point of an HTTP function: ``app.resolve`` inside Powertools' logger
    (correlation id from the API Gateway request id, no event logged), tracer (no response
    captured: it may hold personal data) and metrics (cold starts counted)."""

    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False
    )
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler


def dependency_failed(error: Exception) -> dict[str, str]:
    """Count and log a failed AWS dependency (its class and error code, never the request) and
    return the ``Retry-After`` header the 503 answer carries."""
    code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
    metrics.add_metric(name="DependencyFailures", unit=MetricUnit.Count, value=1)
    logger.error("Dependency failed", extra={"error": type(error).__name__, "code": code})
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


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


def notice_response(
    event: APIGatewayProxyEventV2, notice: pages.Notice, headers: dict[str, str] | None = None
) -> Response:
    """``notice`` as a page for a browser (``Accept``), else as JSON ``{"status": code,
    "message": text}``, with its HTTP status and ``headers``."""
    if wants_html(event):
        return html_response(notice.status, pages.notice_page(notice), headers)
    return json_response(notice.status, {"status": notice.code, "message": notice.message}, headers)
