"""The ``certificate`` email in the holder's language (:mod:`shared.certificates.issuing`).

Laid out by the registrant emails' layout (:mod:`shared.mail.templates`): the greeting, the
signature and (added by :func:`shared.mail.sending.build_message`) the footers follow the
certificate's ``language``, as its PDF does. The session's title is the certificate's own (in
the holder's language when the programme gives it); its time is in the registrant's zone when
their registration is still kept.
"""

from __future__ import annotations

from shared.certificates import wording
from shared.certificates.store import Certificate
from shared.i18n.catalogs import catalog
from shared.i18n.languages import resolve
from shared.mail.blocks import SERIES, EmailContent, Link, SessionBlock, render_blocks
from shared.mail.registrant import session_time
from shared.programme.models import Session
from shared.registrations.models import Registration


def certificate_issued(
    cert: Certificate,
    session: Session,
    registration: Registration | None,
    *,
    download_url: str,
    verify_url: str,
) -> EmailContent:
    """The email of a certificate of attendance: the session, its CPD hours, the holder's
    download link and the public verification URL, in ``cert.language`` (English if none)."""
    language = resolve(cert.language)
    _ = wording.speaker(language)
    title = cert.session.title
    zone = registration.timezone if registration is not None else None
    when = session_time(session, zone, language)
    return render_blocks(  # the one layout of registrant emails
        _("Your certificate of attendance: %(title)s", title=title),
        _("Dear %(name)s,", name=cert.name),
        [
            _(
                "Thank you for attending the following session of the %(series)s:",
                series=SERIES,
            ),
            SessionBlock(title, when),
            _(
                "Your certificate of attendance states %(hours)s CPD hours.",
                hours=wording.hours(cert.cpd_hours, language),
            ),
            Link(
                _("Download your certificate (PDF):"),
                download_url,
                _("Download the certificate"),
            ),
            Link(
                _("Anyone can check that it is genuine at:"),
                verify_url,
                _("Verify the certificate"),
            ),
        ],
        translations=catalog(language),
        language=language,
    )
