"""Unsubscribe: a registrant stops all email from the link in any email (RFC 8058 one-click).

``GET /unsubscribe?token=...`` shows what the link does and a form; it never changes anything
(mail scanners follow links). ``POST /unsubscribe?token=...`` unsubscribes at once: the page's
form, or the one-click request a mail provider sends from the ``List-Unsubscribe`` header
(body ``List-Unsubscribe=One-Click``, which carries nothing else we need, so it is not read
when the URL has the token). Answers are pages, or JSON when ``Accept`` prefers it; a bad or
expired link gets a 4xx saying nothing changed, a failed dependency a 503.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from shared import intake, links, pages, unsubscribe
from shared.observability import logger, metrics, tracer
from shared.responses import html_response, json_response, request_time, wants_html
from shared.settings import get_settings

RETRY_AFTER_SECONDS = 30

app = APIGatewayHttpResolver()


class MissingTokenError(ValueError):
    """The request carries no token."""


@app.get(links.UNSUBSCRIBE_PATH)
def confirm() -> Response:
    token = _token(app.current_event.get_query_string_value("token"))
    linked = unsubscribe.open_link(token, now=_now(), settings=get_settings())
    if linked.suppression is not None:
        return _answer(pages.ALREADY_UNSUBSCRIBED)
    if not wants_html(app.current_event):
        return json_response(200, {"status": "subscribed", "reference": linked.reference})
    return html_response(200, pages.unsubscribe_page(token))


@app.post(links.UNSUBSCRIBE_PATH)
def unsubscribe_now() -> Response:
    token = app.current_event.get_query_string_value("token")
    if not token and app.current_event.body:
        token = intake.read_fields(app.current_event.raw_event).get("token")
    result = unsubscribe.unsubscribe(_token(token), now=_now(), settings=get_settings())
    if not result.changed:
        metrics.add_metric(name="UnsubscribesReplayed", unit=MetricUnit.Count, value=1)
        return _answer(pages.ALREADY_UNSUBSCRIBED)
    metrics.add_metric(name="Unsubscribed", unit=MetricUnit.Count, value=1)
    return _answer(pages.UNSUBSCRIBED)


@app.exception_handler(MissingTokenError)
def missing(_: MissingTokenError) -> Response:
    return _refused(pages.UNSUBSCRIBE_MISSING, "missing")


@app.exception_handler(links.InvalidLinkError)
def invalid(error: links.InvalidLinkError) -> Response:
    notice = pages.UNSUBSCRIBE_EXPIRED if error.reason == "expired" else pages.UNSUBSCRIBE_INVALID
    return _refused(notice, error.reason)


@app.exception_handler(unsubscribe.RegistrationNotFoundError)
def not_found(_: unsubscribe.RegistrationNotFoundError) -> Response:
    return _refused(pages.UNSUBSCRIBE_NOT_FOUND, "not found")


@app.exception_handler(intake.IntakeError)
def unreadable(error: intake.IntakeError) -> Response:
    message = f"{' '.join(error.errors.values())} {pages.UNCHANGED}"
    notice = pages.Notice(error.status, "bad_request", "This request cannot be read", message)
    return _refused(notice, "unreadable body")


@app.exception_handler([ClientError, BotoCoreError])
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


def _token(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise MissingTokenError
    return value


def _now() -> datetime:
    return request_time(app.current_event)


def _refused(notice: pages.Notice, reason: str) -> Response:
    """A link or request that changes nothing: counted and logged (never the token)."""
    metrics.add_metric(name="UnsubscribeLinksRefused", unit=MetricUnit.Count, value=1)
    logger.info("Unsubscribe refused", extra={"status": notice.status, "reason": reason})
    return _answer(notice)


def _answer(notice: pages.Notice, headers: dict[str, str] | None = None) -> Response:
    if wants_html(app.current_event):
        return html_response(notice.status, pages.notice_page(notice), headers)
    body = {"status": notice.code, "message": notice.message}
    return json_response(notice.status, body, headers)
