"""Certificate pages: public verification of a number, the holder's download by the signed link
in their email, and "My record" with its transcript by the signed link in every email.

``GET /certificates/{number}`` is public (HTML in the browser's ``Accept-Language``, or JSON on
``Accept: application/json``): an unknown number is a 404, and there is no listing. "My record"
is in the registrant's language (their latest registration's), else the browser's.
``GET /certificates/{number}/download``, ``GET /record`` and ``GET /record/transcript`` need
their token; whatever is wrong with it is the same 403. Downloads are a 302 to a presigned URL
valid five minutes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from shared.certificates import record, verification
from shared.i18n import languages
from shared.platform.observability import logger, metrics
from shared.platform.settings import get_settings
from shared.web import contract, links, pages
from shared.web.contract import PathId, QueryToken
from shared.web.responses import (
    dependency_failed,
    html_response,
    http_handler,
    json_response,
    notice_response,
    request_time,
    wants_html,
)

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
UNKNOWN = pages.Notice(
    404, "unknown", "No such certificate", "No certificate or transcript has this number."
)
DENIED = pages.Notice(
    403,
    "forbidden",
    "This link does not open this record",
    "The link may be incomplete or expired, or the certificate no longer valid.",
)
NO_RECORD = pages.Notice(
    404,
    "no_record",
    "No record held for this link",
    "The link is genuine, but we hold no registration or attendance for it any more: it may "
    "have been erased, or (on a local stack) made in an earlier run.",
)
REDIRECT: dict[int, Any] = {
    302: {
        "description": "To a presigned URL of the PDF, valid five minutes",
        "headers": {"Location": {"schema": {"type": "string"}}},
        "content": {},
    }
}

app = APIGatewayHttpResolver(enable_validation=True)


@app.get(
    "/certificates/<number>",
    summary="Verify a certificate or transcript by its number",
    responses={200: contract.answer("Its status and what it states"), **contract.errors(404, 503)},
)
def verify(number: PathId) -> Response[str]:
    cert = verification.find(get_settings().table_name, number)
    metrics.add_metric(name="CertificateVerifications", unit=MetricUnit.Count, value=1)
    if wants_html(app.current_event):
        page = verification.page(cert, _browser_language())
        return html_response(200, page, {"Cache-Control": "no-store", "Vary": "Accept-Language"})
    return json_response(200, verification.public_view(cert), {"Cache-Control": "no-store"})


@app.get(
    "/certificates/<number>/download",
    summary="The holder downloads a certificate (a redirect to a short-lived URL)",
    responses={**REDIRECT, **contract.errors(403, 503)},
)
def download(number: PathId, token: QueryToken = None) -> Response[str]:
    url = verification.download_url(token or "", number, settings=get_settings(), now=_now())
    metrics.add_metric(name="CertificateDownloads", unit=MetricUnit.Count, value=1)
    return Response(status_code=302, headers={"Location": url, **PRIVATE}, body="")


@app.get(
    "/record",
    summary="My record: attendance, certificates and CPD hours across the series",
    responses={200: contract.answer("The record"), **contract.errors(403, 404, 503)},
)
def my_record(token: QueryToken = None) -> Response[str]:
    settings, token = get_settings(), token or ""
    email = record.address_of(token, settings=settings, now=_now())
    held = record.build(settings.table_name, email, now=_now())
    base = settings.public_base_url.rstrip("/")
    transcript_url = f"{base}{links.RECORD_PATH}/transcript?token={token}"
    metrics.add_metric(name="RecordViews", unit=MetricUnit.Count, value=1)
    if wants_html(app.current_event):
        page = record.page(held, transcript_url, browser_language=_browser_language())
        return html_response(200, page, PRIVATE)
    body = {
        "name": held.name,
        "minutes": held.minutes,
        "cpd_hours": str(held.cpd_hours),
        "attended": [
            {
                "session_id": a.line.session_id,
                "title": a.line.title,
                "date": a.line.date,
                "minutes": a.line.minutes,
                "certificate": a.certificate.number if a.certificate else None,
            }
            for a in held.attended
        ],
        "registrations": [{"title": t, "date": d, "status": s} for t, d, s in held.registrations],
        "transcript_url": transcript_url,
    }
    return json_response(200, body, PRIVATE)


@app.get(
    "/record/transcript",
    summary="A transcript of every attended session (a redirect to a short-lived URL)",
    responses={**REDIRECT, **contract.errors(403, 404, 503)},
)
def transcript(token: QueryToken = None) -> Response[str]:
    settings = get_settings()
    email = record.address_of(token or "", settings=settings, now=_now())
    held = record.build(settings.table_name, email, now=_now())
    cert = record.transcript(
        held, settings=settings, now=_now(), browser_language=_browser_language()
    )
    url = verification.presigned(settings, cert.number)
    metrics.add_metric(name="TranscriptDownloads", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=302,
        headers={"Location": url, "X-KBS-Transcript": cert.number, **PRIVATE},
        body="",
    )


@app.exception_handler([verification.UnknownCertificateError])
def unknown(error: Exception) -> Response:
    return _notice(UNKNOWN)


@app.exception_handler(
    [
        verification.DownloadDeniedError,
        links.InvalidLinkError,
        RequestValidationError,
    ]
)
def denied(error: Exception) -> Response:
    logger.info("Certificate access denied", extra={"error": type(error).__name__})
    metrics.add_metric(name="CertificateAccessDenied", unit=MetricUnit.Count, value=1)
    return _notice(DENIED)


@app.exception_handler([record.NoRecordError])
def no_record(error: Exception) -> Response:
    return _notice(NO_RECORD)


@app.exception_handler([ClientError, BotoCoreError])
def unavailable(error: Exception) -> Response:
    return _notice(pages.LINK_UNAVAILABLE, dependency_failed(error))


handler = http_handler(app)


def _now() -> datetime:
    return request_time(app.current_event)


def _browser_language() -> str:
    """The visitor's language by ``Accept-Language`` (English when none is supported)."""
    return languages.from_accept_language(app.current_event.headers.get("accept-language"))


def _notice(notice: pages.Notice, headers: dict[str, str] | None = None) -> Response:
    return notice_response(app.current_event, notice, {**PRIVATE, **(headers or {})})
