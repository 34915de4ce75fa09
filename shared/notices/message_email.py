"""The email of an organiser's message (``kbs message``) to one registrant, in their language.

The surroundings are the registrant's language (the registration's ``language``, English when
unsupported): the greeting and signature of the registrant emails' layout
(:mod:`shared.mail.templates`), the "message from the organisers" framing, the session's title
(:meth:`shared.programme.models.Session.title_in`) and time in the locale's words, and the footers
:func:`shared.mail.sending.build_message` adds. The body is the organiser's text for that
language when they gave one, else their default body (:meth:`Message.body_for`; the subject
likewise): plain text, its paragraphs (split at blank lines) escaped like every value.
"""

from __future__ import annotations

from shared.i18n.languages import resolve
from shared.mail import registrant
from shared.mail.blocks import SERIES, Block, EmailContent
from shared.notices.messages import Message
from shared.programme.models import Session
from shared.registrations.models import Registration


def organiser_message(
    registration: Registration, session: Session, message: Message
) -> EmailContent:
    """The content of ``message`` for ``registration``: the subject and body the organiser gave
    for their language, else the defaults."""
    language = resolve(registration.language)
    _ = registrant.speaker(registration)
    body = message.body_for(language)
    paragraphs = [" ".join(p.split()) for p in body.replace("\r\n", "\n").split("\n\n")]
    blocks: list[Block] = [
        _("A message from the organisers of the %(series)s about your session:", series=SERIES),
        registrant.session_block(registration, session),
        *(p for p in paragraphs if p),
    ]
    return registrant.render(registration, message.subject_for(language), blocks)
