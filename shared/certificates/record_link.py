"""The "My record" link at the foot of every email to a registrant
(:mod:`shared.certificates.record`).

Like the "your data" link (:mod:`shared.privacy.data_link`) it names one of the registrant's
registrations (reference, session, address hash), with purpose ``record``; it stays valid as
long as attendance may be held: ``record_retention_years`` after the session ends.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shared.attendance.store import record_expiration
from shared.platform.settings import Settings
from shared.programme.models import Session
from shared.registrations.models import Registration
from shared.web import links


def link_for(registration: Registration, session: Session, *, settings: Settings) -> str:
    """``{base}/record?token=...`` for this registrant."""
    expires_at = datetime.fromtimestamp(
        record_expiration(session, settings.record_retention_years), UTC
    )
    return links.registration_url(links.RECORD, registration, settings, expires_at=expires_at)
