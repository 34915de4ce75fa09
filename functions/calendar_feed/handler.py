"""Calendar feeds: a registrant's own (``GET /calendar/{token}.ics``, the signed link in their
emails) and the public programme's (``GET /sessions.ics``), as ``text/calendar`` that calendar
apps subscribe to (``webcal://``) and poll (:mod:`shared.registrations.feed`).

A bad, expired or orphaned personal link is a 404 naming nothing; a failed dependency a 503.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from shared.platform.observability import logger, metrics
from shared.platform.settings import get_settings
from shared.registrations import feed
from shared.web import contract, links, pages
from shared.web.contract import PathId
from shared.web.responses import (
    dependency_failed,
    html_response,
    http_handler,
    json_response,
    request_time,
    wants_html,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

CALENDAR = "text/calendar; charset=utf-8"
PERSONAL = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
"""The token is in the URL: never cached by a proxy, never sent on as a referrer."""
PUBLIC = {"Cache-Control": "public, max-age=300"}
FEED_ANSWER = cast(
    "OpenAPIResponse",
    {
        "description": "An iCalendar feed (RFC 5545, no METHOD)",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    },
)
NOT_FOUND = pages.Notice(
    404,
    "not_found",
    "No calendar at this address",
    "Use the calendar feed link in your latest email from us.",
)

app = APIGatewayHttpResolver(enable_validation=True)


@app.get(
    "/calendar/<token>",
    summary="A registrant's calendar feed (the path ends in .ics)",
    responses={200: FEED_ANSWER, **contract.errors(404, 503)},
)
def personal(token: PathId) -> Response[str]:
    token = token.removesuffix(links.FEED_SUFFIX)
    body = feed.personal_calendar(token, now=_now(), settings=get_settings())
    metrics.add_metric(name="PersonalFeedRequests", unit=MetricUnit.Count, value=1)
    return Response(status_code=200, content_type=CALENDAR, body=body, headers=PERSONAL)


@app.get(
    "/sessions.ics",
    summary="The programme as a calendar feed",
    responses={200: FEED_ANSWER, **contract.errors(503)},
)
def programme() -> Response[str]:
    from shared.programme.repository import list_sessions  # boto3 resources: loaded on use

    settings = get_settings()
    body = feed.public_calendar(list_sessions(settings.table_name), now=_now(), settings=settings)
    metrics.add_metric(name="ProgrammeFeedRequests", unit=MetricUnit.Count, value=1)
    return Response(status_code=200, content_type=CALENDAR, body=body, headers=PUBLIC)


@app.exception_handler([links.InvalidLinkError, feed.FeedNotFoundError, RequestValidationError])
def not_found(error: Exception) -> Response:
    reason = getattr(error, "reason", "no registration")
    logger.info("Feed link refused", extra={"reason": reason})
    metrics.add_metric(name="FeedLinksRefused", unit=MetricUnit.Count, value=1)
    return _notice(NOT_FOUND, PERSONAL)


@app.exception_handler([ClientError, BotoCoreError])
def unavailable(error: Exception) -> Response:
    return _notice(pages.LINK_UNAVAILABLE, dependency_failed(error))


handler = http_handler(app)


def _now() -> datetime:
    return request_time(app.current_event)


def _notice(notice: pages.Notice, headers: dict[str, str]) -> Response:
    if wants_html(app.current_event):
        return html_response(notice.status, pages.notice_page(notice), headers)
    body = {"status": notice.code, "message": notice.message}
    return json_response(notice.status, body, headers=headers)
