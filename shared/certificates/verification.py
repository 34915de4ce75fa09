"""Public verification of a certificate or transcript (``GET /certificates/{number}``), and the
holder's download of its PDF by the signed link in their email.

Verification shows only what the document itself states: the holder's name, the session(s),
date(s), minutes and CPD hours, and its status. A revoked one says why by category (attendance
corrected, replaced by a reissue under another number, or revoked by the organisers; never the
organisers' free text) and names the replacement; a withdrawn one (erased at the holder's
request) shows nothing but that. An unknown number is a :class:`UnknownCertificateError` (404):
there is no listing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.certificates import store, wording
from shared.certificates.store import Certificate
from shared.i18n.catalogs import N_
from shared.i18n.languages import resolve
from shared.mail.templates import SERIES
from shared.platform.clients import client
from shared.platform.rendering import render
from shared.platform.secrets import signing_keys
from shared.platform.settings import Settings
from shared.web import links

PRESIGNED_SECONDS = 300
CERTIFICATE = wording.CERTIFICATE_HEADING
WITHDRAWN_MESSAGE = N_("This certificate was withdrawn at the holder's request.")
REASONS = {
    "replaced": N_("replaced"),
    "attendance corrected": N_("attendance corrected"),
    "revoked by the organisers": N_("revoked by the organisers"),
}
"""The categories of a revocation (:func:`reason_category`), as the page words them."""


class UnknownCertificateError(LookupError):
    """No certificate has this number (or it cannot be one)."""


class DownloadDeniedError(PermissionError):
    """The link does not open this certificate (forged, expired, another's, not valid)."""


def find(table_name: str, number: str) -> Certificate:
    """The certificate of ``number`` (any spelling :func:`store.normalise_number` accepts)."""
    canonical = store.normalise_number(number)
    cert = store.get_certificate(table_name, canonical) if canonical else None
    if cert is None:
        raise UnknownCertificateError(number)
    return cert


def reason_category(cert: Certificate) -> str:
    if cert.replaced_by:
        return "replaced"
    if cert.reason == store.ATTENDANCE_CORRECTED:
        return "attendance corrected"
    return "revoked by the organisers"


def public_view(cert: Certificate) -> dict[str, Any]:
    """What anyone may see of ``cert`` (JSON-ready)."""
    view: dict[str, Any] = {"number": cert.number, "kind": cert.kind, "status": cert.status}
    if cert.status == store.WITHDRAWN:
        view["message"] = WITHDRAWN_MESSAGE
        return view
    view.update(
        {
            "holder": cert.name,
            "issued_on": cert.issued_at.date().isoformat() if cert.issued_at else "",
            "sessions": [
                {
                    "title": s.title,
                    "date": s.date,
                    "minutes": s.minutes,
                    "cpd_hours": str(store.cpd_hours(s.minutes)),
                }
                for s in cert.sessions
            ],
            "minutes": cert.minutes,
            "cpd_hours": str(sum((store.cpd_hours(s.minutes) for s in cert.sessions), start=0)),
        }
    )
    if cert.status == store.REVOKED:
        view["revoked"] = {"reason": reason_category(cert), "replaced_by": cert.replaced_by or None}
    return view


def page(cert: Certificate, language: str | None = None) -> str:
    """The verification page (HTML) of ``cert`` in ``language`` (the visitor's, from
    ``Accept-Language``: :func:`shared.i18n.languages.from_accept_language`; English when
    unsupported). What the document states (holder, titles) is shown as it states it."""
    language = resolve(language)
    _ = wording.speaker(language)
    view = public_view(cert)
    heading = wording.TRANSCRIPT_HEADING if cert.kind == store.TRANSCRIPT else CERTIFICATE
    title = _(heading)
    sessions = view.get("sessions", [])
    revoked = view.get("revoked") or {}
    return render(
        "shared.web",
        "verify.html",
        title=f"{title} {cert.number}",
        lang=language,
        _=_,
        series=SERIES,
        heading=title,
        view=view,
        withdrawn=_(WITHDRAWN_MESSAGE),
        reason=_(REASONS.get(revoked.get("reason", ""), revoked.get("reason", ""))),
        dates=[wording.long_date(s["date"], language) for s in sessions],
        hours=[wording.hours(store.cpd_hours(s["minutes"]), language) for s in sessions],
        total=wording.hours(Decimal(view.get("cpd_hours", "0")), language),
    )


def download_url(token: str, number: str, *, settings: Settings, now: datetime) -> str:
    """A presigned URL (five minutes) of a valid certificate's PDF for the holder whose link
    ``token`` is; :class:`DownloadDeniedError` for anything else."""
    try:
        claims = links.verify(token, signing_keys(settings), purpose=links.CERTIFICATE, now=now)
    except links.InvalidLinkError as exc:
        raise DownloadDeniedError(exc.reason) from exc
    canonical = store.normalise_number(number)
    cert = store.get_certificate(settings.table_name, canonical) if canonical else None
    if (
        cert is None
        or claims.reference != cert.number
        or cert.status != store.VALID
        or not claims.is_for(cert.email)
    ):
        raise DownloadDeniedError("not this holder's valid certificate")
    return presigned(settings, cert.number)


def presigned(settings: Settings, number: str) -> str:
    url: str = client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": settings.bucket_name, "Key": store.pdf_key(number)},
        ExpiresIn=PRESIGNED_SECONDS,
    )
    return url
