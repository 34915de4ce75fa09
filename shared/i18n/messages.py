"""Messages with values, said in any language: an English text that can be translated later.

A :class:`Message` is a ``str`` (its English text, so code and logs that read it as text keep
working) that also keeps its msgid and its values, and :meth:`Message.in_language` says it in
another language: the catalog's translation of the msgid with its ``%(name)s`` placeholders
filled in. A value is said in the same language when it is itself a :class:`Message` (a field
label), or a function of the language (``Session.title_in``); text and numbers go in as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Union

from shared.i18n.catalogs import catalog
from shared.i18n.languages import ENGLISH

Value = Union[str, int, "Message", Callable[[str | None], str]]
"""A placeholder's value: text or a number (as is), a :class:`Message` or a function of the
language (said in the message's language)."""


class Message(str):
    """``msgid`` (a gettext msgid, marked ``N_`` where written) with ``values`` for its
    ``%(name)s`` placeholders; the string itself is the English text."""

    msgid: str
    values: Mapping[str, Value]

    def __new__(cls, msgid: str, **values: Value) -> Message:
        message = super().__new__(cls, _render(msgid, values, ENGLISH))
        message.msgid = msgid
        message.values = values
        return message

    def in_language(self, language: str | None) -> str:
        """The message in ``language`` (any tag): the catalog's text, else the English one."""
        return _render(self.msgid, self.values, language)


def _render(msgid: str, values: Mapping[str, Value], language: str | None) -> str:
    text = catalog(language).gettext(msgid)
    if not values:
        return text
    return text % {name: _said(value, language) for name, value in values.items()}


def _said(value: Value, language: str | None) -> str | int:
    if isinstance(value, Message):
        return value.in_language(language)
    if isinstance(value, str | int):
        return value
    return value(language)
