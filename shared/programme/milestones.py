"""Once-only work on a session, claimed on its META item: a reminder, a notice, a start or end.

Each piece of work has a name (``reminder-24h``, ``start``, ``update``, ...) and a version
saying what it is about (the scheduled start, or the session's sequence for a change). Its
marker is the attribute ``milestone#{name}`` of the session's META item, a map::

    {"version": v, "state": "claimed", "token": t, "lease_until": n}   # being done
    {"version": v, "state": "done", ...facts}                           # done
    {"version": v, "state": "skipped"}                                  # too late: never done

:func:`claim` is one conditional update: it succeeds only if the session is still at the
sequence it was read at, in one of the statuses the work needs, and the marker is for another
version, or absent, or a claim whose lease expired (a crashed worker). So two workers never
do the same work at once, and work done (or skipped) is never done again, whatever the order
or number of triggers. A new start (a reschedule) is a new version: the work is due again.

The lease runs on the wall clock (it guards against crashed workers, not business time), as in
:func:`shared.mail.sending.send_once`; what is claimed is idempotent anyway (sending is send-once).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from shared.platform import keys
from shared.platform.clients import table
from shared.programme.models import Session, SessionStatus

LEASE_SECONDS = 900
"""Longer than any function that claims work runs (the session functions' timeout is 300 s)."""
CLAIMED, DONE, SKIPPED = "claimed", "done", "skipped"
_VERSION_STATE = {"#version": "version", "#state": "state"}


def attribute(name: str) -> str:
    return f"milestone#{name}"


def settled(item: Mapping[str, Any], name: str, version: str) -> bool:
    """Whether the META ``item`` shows ``name`` done or skipped at ``version``."""
    marker = item.get(attribute(name)) or {}
    return marker.get("version") == version and marker.get("state") in (DONE, SKIPPED)


def claim(
    table_name: str,
    session: Session,
    name: str,
    version: str,
    *,
    statuses: Iterable[SessionStatus],
    lease_seconds: int = LEASE_SECONDS,
    clock: Callable[[], float] = time.time,
) -> str | None:
    """Claim ``name`` at ``version`` (see module doc); the claim token, or ``None`` if the work
    is done, skipped or claimed by another worker, or the session changed since it was read."""
    token = uuid.uuid4().hex
    allowed = {f":status{i}": s.value for i, s in enumerate(statuses)}
    marker = {"version": version, "state": CLAIMED, "token": token}
    now = int(clock())
    if not _update(
        table_name,
        session.session_id,
        "SET #m = :marker",
        f"#sequence = :sequence AND #status IN ({', '.join(allowed)}) AND "
        "(attribute_not_exists(#m) OR #m.#version <> :version OR "
        "(#m.#state = :claimed AND #m.#lease < :now))",
        names={
            **_VERSION_STATE,
            "#sequence": "sequence",
            "#status": "status",
            "#lease": "lease_until",
        },
        values={
            ":marker": {**marker, "lease_until": now + lease_seconds},
            ":version": version,
            ":sequence": session.sequence,
            ":claimed": CLAIMED,
            ":now": now,
            **allowed,
        },
        name=name,
    ):
        return None
    return token


def complete(
    table_name: str, session_id: str, name: str, version: str, token: str, **facts: Any
) -> bool:
    """Mark claimed work done (with ``facts``, e.g. counts); ``False`` if the claim was lost."""
    return _update(
        table_name,
        session_id,
        "SET #m = :marker",
        "#m.#token = :token",
        names={"#token": "token"},
        values={":marker": {"version": version, "state": DONE, **facts}, ":token": token},
        name=name,
    )


def release(table_name: str, session_id: str, name: str, token: str) -> None:
    """Give a claim up (the work failed): the next trigger may claim it again at once."""
    _update(
        table_name,
        session_id,
        "REMOVE #m",
        "#m.#token = :token",
        names={"#token": "token"},
        values={":token": token},
        name=name,
    )


def skip(table_name: str, session_id: str, name: str, version: str) -> bool:
    """Record that ``name`` at ``version`` will never be done (its moment passed long ago), so
    a trigger arriving late or out of order cannot do it; ``False`` if it was claimed first."""
    return _update(
        table_name,
        session_id,
        "SET #m = :marker",
        "attribute_not_exists(#m) OR #m.#version <> :version",
        names={"#version": "version"},
        values={":marker": {"version": version, "state": SKIPPED}, ":version": version},
        name=name,
    )


def _update(
    table_name: str,
    session_id: str,
    update: str,
    condition: str,
    *,
    names: dict[str, str],
    values: dict[str, Any],
    name: str,
) -> bool:
    """A conditional update of the marker ``#m``; ``False`` if the condition failed."""
    try:
        table(table_name).update_item(
            Key={"PK": keys.session_pk(session_id), "SK": keys.META},
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#m": attribute(name), **names},
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True
