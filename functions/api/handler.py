"""The public HTTP API: the registration page, the open programme and registrations.

``POST /registrations`` answers 202 only once EventBridge has accepted the
"Registration Submitted" event; bad input is a 4xx with one message per field, a submission past
a cap (per address, per client: :mod:`shared.registrations.caps`) a 429, a failed dependency a
503 asking the client to retry. Browsers posting the plain form (``Accept``
prefers HTML) get a readable page with the same status code.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from html import escape
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from shared.platform.event_types import REGISTRATION_SUBMITTED, SOURCE_REGISTRATIONS
from shared.platform.events import OutgoingEvent, PublishError, publish
from shared.platform.observability import logger, metrics
from shared.platform.settings import get_settings
from shared.programme import catalogue
from shared.programme.models import SessionAvailability
from shared.registrations import caps, intake, zones
from shared.web import contract, form_page, forms, pages
from shared.web.responses import (
    dependency_failed,
    html_response,
    http_handler,
    json_response,
    request_time,
    wants_html,
)

PAGE = Path(__file__).parent / "static" / "index.html"
ZONES_SLOT = "<!--timezone-options-->"

app = APIGatewayHttpResolver()


@app.get(
    "/",
    summary="The registration page",
    responses={
        200: contract.answer("The form, with the open sessions, in the page language"),
        **contract.errors(503, model=contract.FieldErrors),
    },
    openapi_extensions={"parameters": [contract.LANG_PARAMETER]},
)
def registration_page() -> Response[str]:
    sessions = catalogue.open_sessions(_programme(), _now())
    language = _page_language()
    page = pages.registration_page(
        _template(), sessions, intake.CONSENT_TEXT_VERSION, language, _organiser()
    )
    metrics.add_metric(name="RegistrationPageViews", unit=MetricUnit.Count, value=1)
    headers = {"Vary": "Accept-Language", "Content-Language": language}
    return html_response(200, page, headers)


@app.get(
    "/sessions",
    summary="The sessions open for registration",
    responses={
        200: {
            "description": "The open sessions, by start",
            "content": {contract.JSON: {"model": list[contract.PublicSession]}},
        },
        **contract.errors(503, model=contract.FieldErrors),
    },
)
def open_sessions() -> Response[str]:
    sessions = catalogue.open_sessions(_programme(), _now())
    metrics.add_metric(name="ProgrammeRequests", unit=MetricUnit.Count, value=1)
    return json_response(200, [catalogue.public_session(a) for a in sessions], cache_seconds=30)


@app.post(
    "/registrations",
    summary="Register for one or more sessions",
    responses={
        202: contract.answer("Received: the email tells the outcome", contract.Received),
        **contract.errors(400, 413, 415, 503, model=contract.FieldErrors),
    },
    openapi_extensions={
        "requestBody": intake.request_body(),
        "parameters": [contract.LANG_PARAMETER],
    },
)
def register() -> Response[str]:
    form = intake.parse_form(app.current_event.raw_event)
    now = _now()
    known = {a.session.session_id: a.session for a in _programme()}
    submission = intake.build_submission(form, known.values(), now, _page_language())
    settings = get_settings()
    caps.count_submission(
        settings.table_name,
        email=submission.email,
        source_ip=app.current_event.request_context.http.source_ip,
        now=now,
        limits=caps.Limits(
            per_address_per_day=settings.cap_per_address_per_day,
            per_client_per_hour=settings.cap_per_client_per_hour,
            exempt_loopback=settings.cap_exempt_loopback,
        ),
    )
    event = OutgoingEvent(
        source=SOURCE_REGISTRATIONS,
        detail_type=REGISTRATION_SUBMITTED,
        data=submission.model_dump(mode="json"),
        idempotency_key=submission.reference,
        correlation_id=app.current_event.request_context.request_id,
    )
    publish([event], settings.event_bus_name)
    metrics.add_metric(name="RegistrationsSubmitted", unit=MetricUnit.Count, value=1)
    logger.info("Registration submitted", extra={"session_count": len(submission.sessions)})
    if _wants_html():
        chosen = [known[sid] for sid in submission.sessions]
        page = pages.confirmation_page(submission.reference, chosen, _page_language())
        return html_response(202, page)
    body = {
        "reference": submission.reference,
        "sessions": submission.sessions,
        "status": "received",
    }
    return json_response(202, body)


@app.exception_handler(caps.CapReachedError)
def capped(error: caps.CapReachedError) -> Response:
    name = f"SubmissionsCappedBy{error.scope.title()}"  # ...ByAddress, ...ByClient
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return rejected(error, headers={"Retry-After": str(error.retry_after)})


@app.exception_handler(forms.IntakeError)
def rejected(error: forms.IntakeError, headers: dict[str, str] | None = None) -> Response:
    metrics.add_metric(name="RegistrationsRejected", unit=MetricUnit.Count, value=1)
    logger.info("Request rejected", extra={"status": error.status, "fields": sorted(error.errors)})
    language = _page_language()
    messages = form_page.field_messages(error.errors, language)
    if _wants_html():
        page = pages.problem_page(messages, fields=list(intake.LABELS), language=language)
        return html_response(error.status, page, headers)
    return json_response(error.status, {"errors": messages}, headers=headers)


@app.exception_handler([PublishError, ClientError, BotoCoreError])
def unavailable(error: Exception) -> Response:
    headers = dependency_failed(error)
    language = _page_language()
    message = form_page.translated(form_page.UNAVAILABLE, language)
    if _wants_html():
        return html_response(503, pages.unavailable_page(message, language), headers)
    return json_response(
        503, {"message": message, "retry_after": int(headers["Retry-After"])}, headers=headers
    )


handler = http_handler(app)


def _now() -> datetime:
    return request_time(app.current_event)


def _programme() -> list[SessionAvailability]:
    from shared.programme.repository import list_sessions  # boto3 resources: loaded on first use

    return list_sessions(get_settings().table_name)


@cache
def _template() -> str:
    """The page, with the time zones intake accepts as the zone field's suggestions (the page
    fills in a detected zone only if it is one of them)."""
    options = "".join(f'<option value="{escape(z)}">' for z in zones.accepted())
    return PAGE.read_text(encoding="utf-8").replace(ZONES_SLOT, options)


def _organiser() -> pages.Organiser:
    """The privacy notice, contact address and programme feed the page links (settings
    ``privacy_url``, ``contact_email`` (else the sender address), ``public_base_url``)."""
    settings = get_settings()
    feed = f"{settings.public_base_url.rstrip('/')}/sessions.ics"
    scheme, _, rest = feed.partition("://")
    return pages.Organiser(
        privacy_url=settings.privacy_url,
        contact_email=settings.contact_email or settings.sender_email,
        feed_https=feed,
        feed_webcal=f"webcal://{rest}" if scheme in ("http", "https") else feed,
    )


def _page_language() -> str:
    """The page language of this request: ``?lang=`` (a supported code), else the browser's
    ``Accept-Language``, else English (:func:`shared.web.form_page.page_language`)."""
    event = app.current_event
    return form_page.page_language(
        event.get_query_string_value("lang"), event.headers.get("accept-language")
    )


def _wants_html() -> bool:
    return wants_html(app.current_event)
