"""A registrant's own data, from the "your data" link at the foot of every email.

``GET /privacy?token=...`` shows two buttons and changes nothing (mail scanners follow links).
``POST /privacy/export`` (the form, or JSON ``{"token": ...}``) answers everything held about
the address as a JSON attachment; ``POST /privacy/erase`` erases it (:mod:`shared.privacy`).
A bad, expired or spent link gets a 4xx and changes nothing; a failed dependency a 503
(:mod:`shared.link_routes`).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import links, pages, privacy
from shared.booking import BookingContentionError
from shared.events import PublishError
from shared.link_routes import LinkNotices, LinkRoutes
from shared.observability import logger, metrics, tracer
from shared.responses import html_response, json_response
from shared.settings import get_settings

EXPORT_FILENAME = "kbs-my-data.json"

routes = LinkRoutes(
    LinkNotices(
        missing=pages.PRIVACY_MISSING_LINK,
        invalid=pages.PRIVACY_INVALID_LINK,
        expired=pages.PRIVACY_INVALID_LINK,
        refused_metric="PrivacyLinksRefused",
        refused_log="Privacy request refused",
    ),
    unavailable=(PublishError, BookingContentionError),
)
app = routes.app


@app.get(links.PRIVACY_PATH)
def choose() -> Response:
    token = routes.query_token()
    settings = get_settings()
    privacy.address_of(token, now=routes.now, settings=settings)
    if not routes.wants_html:
        return json_response(200, {"status": "ok", "actions": ["export", "erase"]})
    return html_response(200, pages.privacy_page(token, settings.retention_days))


@app.post(f"{links.PRIVACY_PATH}/export")
def export() -> Response:
    settings, now = get_settings(), routes.now
    email = privacy.address_of(routes.posted_token(), now=now, settings=settings)
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
    settings, now = get_settings(), routes.now
    email = privacy.address_of(routes.posted_token(), now=now, settings=settings)
    privacy.erase(
        email,
        now=now,
        settings=settings,
        correlation_id=app.current_event.request_context.request_id,
    )
    metrics.add_metric(name="PersonalDataErased", unit=MetricUnit.Count, value=1)
    return routes.answer(pages.ERASED)


@app.exception_handler(privacy.NothingHeldError)
def nothing_held(_: privacy.NothingHeldError) -> Response:
    return routes.refused(pages.NOTHING_HELD, "nothing held")


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False
)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
