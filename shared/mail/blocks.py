"""The parts of an email (:mod:`shared.mail.templates`): the rendered content and the blocks its
layouts lay out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str
    language: str = "en"
    """The language it is written in (its footers follow it)."""


@dataclass(frozen=True)
class Link:
    """A paragraph ending in a link: ``label`` then the URL."""

    kind: ClassVar[str] = "link"
    label: str
    url: str


@dataclass(frozen=True)
class SessionBlock:
    """The session title and time, set apart from the prose."""

    kind: ClassVar[str] = "session"
    title: str
    when: str


Block = str | Link | SessionBlock


@dataclass(frozen=True)
class Material:
    """A file a notice lists (:func:`shared.materials.library.for_registrant`): its label and the
    registrant's own link."""

    title: str
    url: str
