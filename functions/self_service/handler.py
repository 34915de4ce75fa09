"""Self-service: a registrant cancels, or leaves the waiting list, from the link in an email.

``GET /registrations/cancel?token=...`` shows what the link cancels and a form; it never
changes anything (mail scanners follow links). ``POST`` with the token (the form, or JSON
``{"token": ...}``) cancels. Answers are pages, or JSON when ``Accept`` prefers it; a bad,
expired or stale link gets a 4xx saying nothing changed, a failed dependency a 503.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from shared import cancellation, intake, links, pages, templates
from shared.booking import BookingContentionError
from shared.events import PublishError
from shared.models import Registration, RegistrationStatus, Session
from shared.observability import logger, metrics, tracer
from shared.responses import html_response, json_response, request_time, wants_html
from shared.settings import get_settings

RETRY_AFTER_SECONDS = 30

app = APIGatewayHttpResolver()


class MissingTokenError(ValueError):
    """The request carries no token."""


@app.get(links.CANCEL_PATH)
def confirm() -> Response:
    token = _token(app.current_event.get_query_string_value("token"))
    linked = cancellation.open_link(token, now=_now(), settings=get_settings())
    registration, session = linked.registration, linked.session
    if registration.status is RegistrationStatus.CANCELLED:
        return _answer(pages.ALREADY_CANCELLED, registration, session)
    if not _wants_html():
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


@app.post(links.CANCEL_PATH)
def cancel() -> Response:
    given = intake.read_fields(app.current_event.raw_event) if app.current_event.body else {}
    token = _token(given.get("token") or app.current_event.get_query_string_value("token"))
    result = cancellation.cancel(
        token,
        now=_now(),
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


@app.exception_handler(MissingTokenError)
def missing(_: MissingTokenError) -> Response:
    return _refused(pages.MISSING_LINK, "missing")


@app.exception_handler(links.InvalidLinkError)
def invalid(error: links.InvalidLinkError) -> Response:
    notice = pages.EXPIRED_LINK if error.reason == "expired" else pages.INVALID_LINK
    return _refused(notice, error.reason)


@app.exception_handler(cancellation.RegistrationNotFoundError)
def not_found(_: cancellation.RegistrationNotFoundError) -> Response:
    return _refused(pages.NOT_FOUND, "not found")


@app.exception_handler(cancellation.SessionOverError)
def over(_: cancellation.SessionOverError) -> Response:
    return _refused(pages.SESSION_OVER, "session over")


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


def _token(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise MissingTokenError
    return value


def _now() -> datetime:
    return request_time(app.current_event)


def _refused(notice: pages.Notice, reason: str) -> Response:
    """A link or request that changes nothing: counted and logged (never the token)."""
    metrics.add_metric(name="CancelLinksRefused", unit=MetricUnit.Count, value=1)
    logger.info("Cancellation refused", extra={"status": notice.status, "reason": reason})
    return _answer(notice)


def _answer(
    notice: pages.Notice,
    registration: Registration | None = None,
    session: Session | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The notice as a page (naming the session) or as JSON."""
    if _wants_html():
        if registration and session:
            when = templates.session_time(session, registration.timezone)
            page = pages.notice_page(notice, session.title, when)
            return html_response(notice.status, page, headers)
        return html_response(notice.status, pages.notice_page(notice), headers)
    body: dict[str, Any] = {"status": notice.code, "message": notice.message}
    if registration and session:
        body |= _describe(registration, session)
    return json_response(notice.status, body, headers)


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


def _wants_html() -> bool:
    return wants_html(app.current_event)
