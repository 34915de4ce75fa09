"""Rules for text the form echoes into emails and invites (name, organisation, role).

Whatever someone types in these fields is shown to the owner of the address they give, who may
be a stranger: kbs must not become a channel for someone else's link or header trick (issue 12,
items 1 and 2). So the fields refuse

- RFC 2047 encoded-word syntax (``=?charset?q?...?=``): a mail parser decodes it, so it could
  turn into a line break and a header (emails are encoded safely anyway:
  :mod:`shared.mail.headers`);
- link-like text: a URL scheme (``http:``, ``https:``, ``ftp:``, ``mailto:``, anything ``://``),
  ``www.``, a host name (or IPv4 address) followed by ``/``, or an email address: mail clients
  make all of these clickable.

Real names and organisations still pass: ``St. Gallen``, ``J.R. Smith``, ``Procurement.ie``,
``Dr. Ana-María O'Neil``. Text is compared after NFKC normalisation and case folding, so
full-width or mixed-case look-alikes of ``https://`` are caught too.
"""

from __future__ import annotations

import re
import unicodedata

_ENCODED_WORD = re.compile(r"=\?.*\?=", re.DOTALL)
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_LINK = re.compile(
    r"://"
    r"|\b(?:https?|ftp|mailto|javascript|file):"
    r"|\bwww\d{0,3}\."
    rf"|\b(?:{_LABEL}\.)+(?:[^\W\d_]{{2,63}}|xn--[\w-]{{1,59}})(?::\d{{1,5}})?/"
    r"|\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?/"
    rf"|[\w.+-]@(?:{_LABEL}\.)+[^\W\d_]{{2,63}}\b"
)


def _comparable(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def has_encoded_word(text: str) -> bool:
    """Whether ``text`` holds ``=?...?=`` (an RFC 2047 encoded word, or what a parser would try
    to read as one)."""
    return bool(_ENCODED_WORD.search(_comparable(text)))


def looks_like_link(text: str) -> bool:
    """Whether a mail client could show part of ``text`` as a link (see the module doc)."""
    return bool(_LINK.search(_comparable(text)))
