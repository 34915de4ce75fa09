"""Unsubscribe: a registrant stops all email from the link in any email (RFC 8058 one-click).

``GET /unsubscribe?token=...`` shows what the link does and a form; it never changes anything
(mail scanners follow links). ``POST /unsubscribe?token=...`` unsubscribes at once: the page's
form, or the one-click request a mail provider sends from the ``List-Unsubscribe`` header
(body ``List-Unsubscribe=One-Click``, which carries nothing else we need, so it is not read
when the URL has the token). Answers are pages, or JSON when ``Accept`` prefers it; a bad or
expired link gets a 4xx saying nothing changed, a failed dependency a 503
(:mod:`shared.web.link_routes`).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from shared.mail import unsubscribe
from shared.platform.observability import metrics
from shared.platform.settings import get_settings
from shared.web import contract, links, pages
from shared.web.contract import QueryToken
from shared.web.link_routes import LinkNotices, LinkRoutes
from shared.web.responses import html_response, http_handler, json_response

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


@app.get(
    links.UNSUBSCRIBE_PATH,
    summary="What the unsubscribe link does (changes nothing)",
    responses={
        200: contract.answer(
            "Still subscribed (JSON), or already unsubscribed (a notice)", contract.Subscription
        ),
        **contract.errors(400, 403, 404, 503),
    },
)
def confirm(token: QueryToken = None) -> Response[str]:
    token = routes.query_token(token)
    linked = unsubscribe.open_link(token, now=routes.now, settings=get_settings())
    if linked.suppression is not None:
        return routes.answer(pages.ALREADY_UNSUBSCRIBED)
    if not routes.wants_html:
        return json_response(200, {"status": "subscribed", "reference": linked.reference})
    return html_response(200, pages.unsubscribe_page(token))


@app.post(
    links.UNSUBSCRIBE_PATH,
    summary="Stop all email (RFC 8058 one-click too)",
    responses={
        200: contract.answer("Unsubscribed (or already)", contract.Notice),
        **contract.errors(400, 403, 404, 413, 415, 503),
    },
    openapi_extensions=contract.token_body(),
)
def unsubscribe_now(token: QueryToken = None) -> Response[str]:
    result = unsubscribe.unsubscribe(
        routes.posted_token(token), now=routes.now, settings=get_settings()
    )
    if not result.changed:
        metrics.add_metric(name="UnsubscribesReplayed", unit=MetricUnit.Count, value=1)
        return routes.answer(pages.ALREADY_UNSUBSCRIBED)
    metrics.add_metric(name="Unsubscribed", unit=MetricUnit.Count, value=1)
    return routes.answer(pages.UNSUBSCRIBED)


@app.exception_handler(unsubscribe.RegistrationNotFoundError)
def not_found(_: unsubscribe.RegistrationNotFoundError) -> Response:
    return routes.refused(pages.UNSUBSCRIBE_NOT_FOUND, "not found")


handler = http_handler(app)
