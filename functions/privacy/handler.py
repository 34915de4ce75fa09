"""A registrant's own data, from the "your data" link at the foot of every email.

``GET /privacy?token=...`` shows two buttons and changes nothing (mail scanners follow links).
``POST /privacy/export`` (the form, or JSON ``{"token": ...}``) answers everything held about
the address as a JSON attachment; ``POST /privacy/erase`` erases it (:mod:`shared.privacy`).
A bad, expired or spent link gets a 4xx and changes nothing; a failed dependency a 503.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from shared import intake, links, pages, privacy
from shared.booking import BookingContentionError
from shared.events import PublishError
from shared.observability import logger, metrics, tracer
from shared.responses import html_response, json_response, request_time, wants_html
from shared.settings import get_settings

RETRY_AFTER_SECONDS = 30
EXPORT_FILENAME = "kbs-my-data.json"

app = APIGatewayHttpResolver()


class MissingTokenError(ValueError):
    """The request carries no token."""


@app.get(links.PRIVACY_PATH)
def choose() -> Response:
    token = _token(app.current_event.get_query_string_value("token"))
    settings = get_settings()
    privacy.address_of(token, now=_now(), settings=settings)
    if not wants_html(app.current_event):
        return json_response(200, {"status": "ok", "actions": ["export", "erase"]})
    return html_response(200, pages.privacy_page(token, settings.retention_days))


@app.post(f"{links.PRIVACY_PATH}/export")
def export() -> Response:
    settings, now = get_settings(), _now()
    email = privacy.address_of(_posted_token(), now=now, settings=settings)
    data = privacy.export(settings.table_name, email, now=now)
    metrics.add_metric(name="PersonalDataExported", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=200,
        content_type="application/json",
        body=json.dumps(data, ensure_ascii=False, indent=2),
        headers={
            "Content-Disposition": f'attachment; filename="{EXPORT_FILENAME}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@app.post(f"{links.PRIVACY_PATH}/erase")
def erase() -> Response:
    settings, now = get_settings(), _now()
    email = privacy.address_of(_posted_token(), now=now, settings=settings)
    privacy.erase(
        email,
        now=now,
        settings=settings,
        correlation_id=app.current_event.request_context.request_id,
    )
    metrics.add_metric(name="PersonalDataErased", unit=MetricUnit.Count, value=1)
    return _answer(pages.ERASED)


@app.exception_handler(MissingTokenError)
def missing(_: MissingTokenError) -> Response:
    return _refused(pages.PRIVACY_MISSING_LINK, "missing")


@app.exception_handler(links.InvalidLinkError)
def invalid(error: links.InvalidLinkError) -> Response:
    return _refused(pages.PRIVACY_INVALID_LINK, error.reason)


@app.exception_handler(privacy.NothingHeldError)
def nothing_held(_: privacy.NothingHeldError) -> Response:
    return _refused(pages.NOTHING_HELD, "nothing held")


@app.exception_handler(intake.IntakeError)
def unreadable(error: intake.IntakeError) -> Response:
    message = f"{' '.join(error.errors.values())} {pages.UNCHANGED}"
    notice = pages.Notice(error.status, "bad_request", "This request cannot be read", message)
    return _refused(notice, "unreadable body")


@app.exception_handler([PublishError, ClientError, BotoCoreError, BookingContentionError])
def unavailable(error: Exception) -> Response:
    code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
    metrics.add_metric(name="DependencyFailures", unit=MetricUnit.Count, value=1)
    logger.error("Dependency failed", extra={"error": type(error).__name__, "code": code})
    return _answer(pages.LINK_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False
)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


def _posted_token() -> str:
    given = intake.read_fields(app.current_event.raw_event) if app.current_event.body else {}
    return _token(given.get("token") or app.current_event.get_query_string_value("token"))


def _token(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise MissingTokenError
    return value


def _now() -> datetime:
    return request_time(app.current_event)


def _refused(notice: pages.Notice, reason: str) -> Response:
    """A link or request that changes nothing: counted and logged (never the token)."""
    metrics.add_metric(name="PrivacyLinksRefused", unit=MetricUnit.Count, value=1)
    logger.info("Privacy request refused", extra={"status": notice.status, "reason": reason})
    return _answer(notice)


def _answer(notice: pages.Notice, headers: dict[str, str] | None = None) -> Response:
    if wants_html(app.current_event):
        return html_response(notice.status, pages.notice_page(notice), headers)
    body = {"status": notice.code, "message": notice.message}
    return json_response(notice.status, body, headers)
