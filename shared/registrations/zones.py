"""The time zones a registrant may choose: one list, shared by the page and intake.

The registration page detects the browser's zone (``Intl.DateTimeFormat``), which can be a name
the server's time zone database does not have (``Etc/Unknown``, or a zone newer than it). The
page fills in only a zone in :func:`accepted` (it receives the list as the field's suggestions),
and intake treats any other value as absent (issue 12, item 11): the time zone is optional, so
an unknown one means "use the session's zone", never a refused registration.

The list is the IANA names of this runtime's database (``zoneinfo.available_timezones()``,
which leaves out the ``posix/`` and ``right/`` copies), legacy links such as ``US/Eastern`` that
older browsers report included, without ``Factory`` and ``localtime`` (not zones of a place).
"""

from __future__ import annotations

import zoneinfo
from functools import cache

_NOT_A_PLACE = frozenset({"Factory", "localtime", "posixrules"})


@cache
def accepted() -> tuple[str, ...]:
    """The accepted zone names, sorted (computed once per process: it lists the database)."""
    return tuple(sorted(zoneinfo.available_timezones() - _NOT_A_PLACE))


@cache
def _accepted_set() -> frozenset[str]:
    return frozenset(accepted())


def known(value: str | None) -> str | None:
    """``value`` if it is an accepted zone name, else ``None`` (no zone given)."""
    if value and value in _accepted_set():
        return value
    return None
