"""Unsubscribe: a registrant stops all email from the link in any email (RFC 8058 one-click).

``GET /unsubscribe?token=...`` shows what the link does and a form; it never changes anything
(mail scanners follow links). ``POST /unsubscribe?token=...`` unsubscribes at once: the page's
form, or the one-click request a mail provider sends from the ``List-Unsubscribe`` header
(body ``List-Unsubscribe=One-Click``, which carries nothing else we need, so it is not read
when the URL has the token). Answers are pages, or JSON when ``Accept`` prefers it; a bad or
expired link gets a 4xx saying nothing changed, a failed dependency a 503
(:mod:`shared.link_routes`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import links, pages, unsubscribe
from shared.link_routes import LinkNotices, LinkRoutes
from shared.observability import logger, metrics, tracer
from shared.responses import html_response, json_response
from shared.settings import get_settings

routes = LinkRoutes(
    LinkNotices(
        missing=pages.UNSUBSCRIBE_MISSING,
        invalid=pages.UNSUBSCRIBE_INVALID,
        expired=pages.UNSUBSCRIBE_EXPIRED,
        refused_metric="UnsubscribeLinksRefused",
        refused_log="Unsubscribe refused",
    )
)
app = routes.app


@app.get(links.UNSUBSCRIBE_PATH)
def confirm() -> Response:
    token = routes.query_token()
    linked = unsubscribe.open_link(token, now=routes.now, settings=get_settings())
    if linked.suppression is not None:
        return routes.answer(pages.ALREADY_UNSUBSCRIBED)
    if not routes.wants_html:
        return json_response(200, {"status": "subscribed", "reference": linked.reference})
    return html_response(200, pages.unsubscribe_page(token))


@app.post(links.UNSUBSCRIBE_PATH)
def unsubscribe_now() -> Response:
    result = unsubscribe.unsubscribe(routes.posted_token(), now=routes.now, settings=get_settings())
    if not result.changed:
        metrics.add_metric(name="UnsubscribesReplayed", unit=MetricUnit.Count, value=1)
        return routes.answer(pages.ALREADY_UNSUBSCRIBED)
    metrics.add_metric(name="Unsubscribed", unit=MetricUnit.Count, value=1)
    return routes.answer(pages.UNSUBSCRIBED)


@app.exception_handler(unsubscribe.RegistrationNotFoundError)
def not_found(_: unsubscribe.RegistrationNotFoundError) -> Response:
    return routes.refused(pages.UNSUBSCRIBE_NOT_FOUND, "not found")


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False
)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
