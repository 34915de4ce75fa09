"""The "your data" link at the foot of every email to a registrant (:mod:`shared.privacy.rights`).

It names one of the registrant's registrations (reference, session, address hash) with
purpose ``privacy``, and stays valid while that registration's data may be held: until the
retention period after the session ends (:mod:`shared.privacy.retention`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from shared.platform.settings import Settings
from shared.privacy import retention
from shared.programme.models import Session
from shared.registrations.models import Registration
from shared.web import links


def link_for(registration: Registration, session: Session, *, settings: Settings) -> str:
    expires_at = datetime.fromtimestamp(retention.expiration(session, settings.retention_days), UTC)
    return links.registration_url(links.PRIVACY, registration, settings, expires_at=expires_at)
