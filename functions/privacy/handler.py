"""A registrant's own data, from the "your data" link at the foot of every email.

``GET /privacy?token=...`` shows two buttons and changes nothing (mail scanners follow links).
``POST /privacy/export`` (the form, or JSON ``{"token": ...}``) answers everything held about
the address as a JSON attachment; ``POST /privacy/erase`` erases it (:mod:`shared.privacy.rights`).
A bad, expired or spent link gets a 4xx and changes nothing; a failed dependency a 503
(:mod:`shared.web.link_routes`).
"""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from shared.platform.events import PublishError
from shared.platform.observability import metrics
from shared.platform.settings import get_settings
from shared.privacy import rights
from shared.registrations.booking import BookingContentionError
from shared.web import contract, links, pages
from shared.web.contract import QueryToken
from shared.web.link_routes import LinkNotices, LinkRoutes
from shared.web.responses import html_response, http_handler, json_response

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


@app.get(
    links.PRIVACY_PATH,
    summary="The choices of the your-data link (changes nothing)",
    responses={
        200: contract.answer("Export or erase", contract.PrivacyChoices),
        **contract.errors(400, 403, 404, 503),
    },
)
def choose(token: QueryToken = None) -> Response[str]:
    token = routes.query_token(token)
    settings = get_settings()
    rights.address_of(token, now=routes.now, settings=settings)
    if not routes.wants_html:
        return json_response(200, {"status": "ok", "actions": ["export", "erase"]})
    return html_response(
        200, pages.privacy_page(token, settings.retention_days, settings.record_retention_years)
    )


@app.post(
    f"{links.PRIVACY_PATH}/export",
    summary="Everything held about the address, as a JSON attachment",
    responses={
        200: {
            "description": f"The data, as the attachment {EXPORT_FILENAME}",
            "content": {contract.JSON: {"schema": {"type": "object"}}},
        },
        **contract.errors(400, 403, 404, 413, 415, 503),
    },
    openapi_extensions=contract.token_body(),
)
def export(token: QueryToken = None) -> Response[str]:
    settings, now = get_settings(), routes.now
    email = rights.address_of(routes.posted_token(token), now=now, settings=settings)
    data = rights.export(settings.table_name, email, now=now)
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


@app.post(
    f"{links.PRIVACY_PATH}/erase",
    summary="Erase everything held about the address",
    responses={
        200: contract.answer("Erased", contract.Notice),
        **contract.errors(400, 403, 404, 413, 415, 503),
    },
    openapi_extensions=contract.token_body(),
)
def erase(token: QueryToken = None) -> Response[str]:
    settings, now = get_settings(), routes.now
    email = rights.address_of(routes.posted_token(token), now=now, settings=settings)
    rights.erase(
        email,
        now=now,
        settings=settings,
        correlation_id=app.current_event.request_context.request_id,
    )
    metrics.add_metric(name="PersonalDataErased", unit=MetricUnit.Count, value=1)
    return routes.answer(pages.ERASED)


@app.exception_handler(rights.NothingHeldError)
def nothing_held(_: rights.NothingHeldError) -> Response:
    return routes.refused(pages.NOTHING_HELD, "nothing held")


handler = http_handler(app)
