"""Downloads: a session's materials for its registrants, by the signed link in their emails.

``GET /materials/{material_id}?token=...`` redirects (302) to a presigned S3 URL of that exact
version, valid five minutes; ``GET /sessions/{session_id}/materials?token=...`` lists the
session's current materials with download links (a page, or JSON unless ``Accept`` prefers
HTML). Whatever is wrong (no token, a forged, tampered or expired one, another session's, a
cancelled registration, a withdrawn material) is a 403 that names no file and gives no URL.
"""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from shared.mail import templates
from shared.materials import library
from shared.platform.observability import logger, metrics
from shared.platform.settings import get_settings
from shared.programme.repository import SessionNotFoundError, get_session
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
"""The token is in the URL: never cached, never sent on as a referrer."""
DENIED = pages.Notice(
    403,
    "forbidden",
    "This link does not open these materials",
    "Materials are for the registered participants of a session, through the links in the "
    "emails we sent them. The link may be incomplete or expired, or the material withdrawn.",
)

app = APIGatewayHttpResolver(enable_validation=True)


@app.get(
    "/materials/<material_id>",
    summary="Download one material (a redirect to a short-lived URL)",
    responses={
        302: {
            "description": "To a presigned URL of the file, valid five minutes",
            "headers": {"Location": {"schema": {"type": "string"}}},
            "content": {},
        },
        **contract.errors(403, 503),
    },
)
def download(material_id: PathId, token: QueryToken = None) -> Response[str]:
    url = library.download_url(token or "", material_id, settings=get_settings(), now=_now())
    metrics.add_metric(name="MaterialDownloads", unit=MetricUnit.Count, value=1)
    logger.info("Download", extra={"material_id": material_id})
    return Response(status_code=302, headers={"Location": url, **PRIVATE}, body="")


@app.get(
    "/sessions/<session_id>/materials",
    summary="A session's current materials, with their download links",
    responses={
        200: contract.answer("The materials", contract.Materials),
        **contract.errors(403, 503),
    },
)
def listing(session_id: PathId, token: QueryToken = None) -> Response[str]:
    settings, token = get_settings(), token or ""
    registration = library.authorise(token, session_id, settings=settings, now=_now())
    session = get_session(settings.table_name, session_id).session
    files = [
        (record, links.material_url(settings.public_base_url, record.material_id, token))
        for record in library.current_materials(settings.table_name, session_id)
    ]
    metrics.add_metric(name="MaterialListings", unit=MetricUnit.Count, value=1)
    if wants_html(app.current_event):
        when = templates.session_time(session, registration.timezone)
        page = pages.materials_page(session.title, when, [(r.label, url) for r, url in files])
        return html_response(200, page, PRIVATE)
    body = {
        "session": {"session_id": session.session_id, "title": session.title},
        "materials": [
            {
                "material_id": record.material_id,
                "title": record.title,
                "kind": record.kind.value,
                "file_name": record.file_name,
                "size": record.size,
                "content_type": record.content_type,
                "uploaded_at": record.uploaded_at.isoformat(),
                "url": url,
            }
            for record, url in files
        ],
    }
    return json_response(200, body, PRIVATE)


@app.exception_handler([library.AccessDeniedError, SessionNotFoundError, RequestValidationError])
def denied(error: Exception) -> Response:
    if isinstance(error, RequestValidationError):
        reason = "invalid request"  # whatever is wrong is the same 403
    else:
        reason = getattr(error, "reason", "no such session")
    metrics.add_metric(name="MaterialAccessDenied", unit=MetricUnit.Count, value=1)
    logger.info("Materials access denied", extra={"reason": reason})
    return _notice(DENIED)


@app.exception_handler([ClientError, BotoCoreError])
def unavailable(error: Exception) -> Response:
    return _notice(pages.LINK_UNAVAILABLE, dependency_failed(error))


handler = http_handler(app)


def _now() -> datetime:
    return request_time(app.current_event)


def _notice(notice: pages.Notice, headers: dict[str, str] | None = None) -> Response:
    return notice_response(app.current_event, notice, {**PRIVATE, **(headers or {})})
