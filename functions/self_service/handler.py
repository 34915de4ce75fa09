"""Self-service: a registrant cancels, or leaves the waiting list, from the link in an email.

``GET /registrations/cancel?token=...`` shows what the link cancels and a form; it never
changes anything (mail scanners follow links). ``POST`` with the token (the form, or JSON
``{"token": ...}``) cancels. Answers are pages, or JSON when ``Accept`` prefers it; a bad,
expired or stale link gets a 4xx saying nothing changed, a failed dependency a 503
(:mod:`shared.web.link_routes`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from shared.mail import templates
from shared.platform.events import PublishError
from shared.platform.observability import metrics
from shared.platform.settings import get_settings
from shared.programme.models import Session
from shared.registrations import cancellation
from shared.registrations.booking import BookingContentionError
from shared.registrations.models import Registration, RegistrationStatus
from shared.web import contract, links, pages
from shared.web.contract import QueryToken
from shared.web.link_routes import LinkNotices, LinkRoutes
from shared.web.responses import html_response, http_handler, json_response

routes = LinkRoutes(
    LinkNotices(
        missing=pages.MISSING_LINK,
        invalid=pages.INVALID_LINK,
        expired=pages.EXPIRED_LINK,
        refused_metric="CancelLinksRefused",
        refused_log="Cancellation refused",
    ),
    unavailable=(PublishError, BookingContentionError),
)
app = routes.app


@app.get(
    links.CANCEL_PATH,
    summary="What the cancel link cancels (changes nothing)",
    responses={
        200: contract.answer("The registration and its session", contract.CancelLink),
        **contract.errors(400, 403, 404, 409, 503),
    },
)
def confirm(token: QueryToken = None) -> Response[str]:
    token = routes.query_token(token)
    linked = cancellation.open_link(token, now=routes.now, settings=get_settings())
    registration, session = linked.registration, linked.session
    if registration.status is RegistrationStatus.CANCELLED:
        return _answer(pages.ALREADY_CANCELLED, registration, session)
    if not routes.wants_html:
        body = {"status": registration.status.value, **_describe(registration, session)}
        return json_response(200, body)
    page = pages.cancel_page(
        session_title=session.title,
        when=templates.session_time(session, registration.timezone),
        reference=registration.reference,
        waitlisted=registration.status is RegistrationStatus.WAITLISTED,
        token=token,
    )
    return html_response(200, page)


@app.post(
    links.CANCEL_PATH,
    summary="Cancel the registration, or leave the waiting list",
    responses={
        200: contract.answer("Cancelled (or already cancelled)", contract.Notice),
        **contract.errors(400, 403, 404, 409, 413, 415, 503),
    },
    openapi_extensions=contract.token_body(),
)
def cancel(token: QueryToken = None) -> Response[str]:
    result = cancellation.cancel(
        routes.posted_token(token),
        now=routes.now,
        settings=get_settings(),
        correlation_id=app.current_event.request_context.request_id,
    )
    if result.outcome is cancellation.CancelOutcome.ALREADY_CANCELLED:
        metrics.add_metric(name="CancellationsReplayed", unit=MetricUnit.Count, value=1)
        return _answer(pages.ALREADY_CANCELLED, result.registration, result.session)
    metrics.add_metric(name="RegistrationsCancelled", unit=MetricUnit.Count, value=1)
    if result.previous_status is RegistrationStatus.WAITLISTED:
        notice = pages.LEFT_WAITLIST
    else:
        notice = pages.CANCELLED
    return _answer(notice, result.registration, result.session)


@app.exception_handler(cancellation.RegistrationNotFoundError)
def not_found(_: cancellation.RegistrationNotFoundError) -> Response:
    return routes.refused(pages.NOT_FOUND, "not found")


@app.exception_handler(cancellation.SessionOverError)
def over(_: cancellation.SessionOverError) -> Response:
    return routes.refused(pages.SESSION_OVER, "session over")


handler = http_handler(app)


def _answer(notice: pages.Notice, registration: Registration, session: Session) -> Response:
    """The notice naming the registration's session, as a page or as JSON."""
    return routes.answer(
        notice,
        session_title=session.title,
        when=templates.session_time(session, registration.timezone),
        details=_describe(registration, session),
    )


def _describe(registration: Registration, session: Session) -> dict[str, Any]:
    return {
        "reference": registration.reference,
        "session": {
            "session_id": session.session_id,
            "title": session.title,
            "start": session.start.isoformat(),
            "end": session.end.isoformat(),
            "timezone": session.timezone,
        },
    }
