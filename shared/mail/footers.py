"""The footer lines of every registrant email: unsubscribe, "My record" and "your data".

Each is appended to the text part and at the end of the HTML part's footer
(``shared/mail/templates/footer.*``), in the email's language where translated.
"""

from __future__ import annotations

from shared.i18n.catalogs import N_, catalog
from shared.mail.blocks import FOOTER_SLOT, SERIES, EmailContent
from shared.platform.rendering import render

_HERE = "shared.mail"

UNSUBSCRIBE_LABEL = N_(
    "You receive this email because you registered for the %(series)s. "
    "To receive no more emails from us:"
)


def with_unsubscribe(content: EmailContent, url: str) -> EmailContent:
    """``content`` with the unsubscribe link as its footer, in its language
    (:func:`shared.mail.sending.build_message`)."""
    _ = catalog(content.language).gettext
    label = _(UNSUBSCRIBE_LABEL) % {"series": SERIES}
    return _with_footer(content, label, url, link=_("Unsubscribe"), rule=True)


PRIVACY_LABEL = N_("To see the personal data we hold about you, or to have it erased:")


def with_privacy_link(content: EmailContent, url: str) -> EmailContent:
    """``content`` with the "your data" link (:mod:`shared.privacy.rights`) at the end of its
    footer, in its language."""
    _ = catalog(content.language).gettext
    return _with_footer(content, _(PRIVACY_LABEL), url, link=_("Your data"), rule=False)


RECORD_LABEL = N_("Your attendance, certificates and CPD hours across the series:")


def with_record_link(content: EmailContent, url: str) -> EmailContent:
    """``content`` with the "My record" link (:mod:`shared.certificates.record`) in its footer,
    in its language."""
    _ = catalog(content.language).gettext
    return _with_footer(content, _(RECORD_LABEL), url, link=_("My record"), rule=False)


def _with_footer(
    content: EmailContent, label: str, url: str, *, link: str, rule: bool
) -> EmailContent:
    """``label`` and ``url`` appended to the text part, and at the end of the HTML part's
    footer (after a rule if ``rule``: the first footer line)."""
    footer = {"label": label, "url": url, "link": link, "rule": rule}
    slot = FOOTER_SLOT if FOOTER_SLOT in content.html else "</body>"  # a layout of our own
    page = content.html.replace(slot, render(_HERE, "footer.html", **footer) + slot, 1)
    text = content.text + render(_HERE, "footer.txt", **footer)
    return EmailContent(content.subject, text, page, content.language)
