"""Events carry the local clock's time, also when it is simulated.

In AWS an event's ``time`` is the clock of whoever made it: our code (``PutEvents`` with
``Time``), or EventBridge and the other services (``Time`` omitted, an S3 "Object Created").
moto stamps the latter with the wall clock, so on a simulated clock (``kbs tick``) the local
stack stamps them itself:

- :func:`stamp_put_events`: every ``PutEvents`` entry sent from this process without a
  ``Time`` gets the clock's time (what EventBridge's clock would say; handlers run here);
- :func:`retimed`: an event an AWS service emitted (``source`` ``aws.*``, e.g. an S3 upload's
  "Object Created") is delivered with the clock's time, as if the service's clock were ours.

On real time both change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kbs.local.clock import Clock, event_time

_PUT_EVENTS = "before-parameter-build.eventbridge.PutEvents"


def stamp_put_events(clock: Clock) -> Callable[[], None]:
    """Stamp ``PutEvents`` entries without ``Time`` with ``clock``'s simulated time, in every
    botocore session created from now on in this process; the function that stops it.

    botocore registers :data:`botocore.handlers.BUILTIN_HANDLERS` in each new session, so
    clients made later (the handlers' cached ones are reset when the stack starts) have it.
    """
    from botocore import handlers

    def stamp(params: dict[str, Any], **_: Any) -> None:
        if clock.simulated:
            at = clock.now()
            for entry in params.get("Entries", []):
                entry.setdefault("Time", at)

    registration = (_PUT_EVENTS, stamp)
    handlers.BUILTIN_HANDLERS.append(registration)
    return lambda: handlers.BUILTIN_HANDLERS.remove(registration)


def retimed(body: str, clock: Clock) -> str:
    """``body`` (an EventBridge event as its rule's queue holds it) with the simulated time
    when an AWS service emitted it; unchanged on real time, for our own events, or when it
    is not an event."""
    if not clock.simulated:
        return body
    try:
        event = json.loads(body)
    except ValueError:
        return body
    if not isinstance(event, dict) or not str(event.get("source", "")).startswith("aws."):
        return body
    return json.dumps({**event, "time": event_time(clock.now())})
