"""The Logger / Tracer / Metrics singletons every handler uses (Powertools).

The Tracer is built on first use: building it imports the X-Ray SDK (~100 ms), which would
otherwise land in every handler's module import (``make bench`` measures that budget).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "kbs"

# Any email address (Unicode too); names are never logged at all: log references instead.
EMAIL_PATTERN = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED_EMAIL = "[email redacted]"


def redact(value: Any) -> Any:
    """``value`` (text, or lists and dicts of it) with every email address masked."""
    if isinstance(value, str):
        return EMAIL_PATTERN.sub(REDACTED_EMAIL, value)
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))  # exceptions and other objects: as the JSON default shows them


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines with every email address masked in every field: message, extra
    keys, exception text and stack trace (redacted before serialising, so JSON stays valid)."""

    def serialize(self, log: Any) -> str:
        return super().serialize(log=redact(log))


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())
metrics = Metrics(namespace="KnowledgeBuildingSeries", service=SERVICE)


class LazyTracer:
    """A Powertools Tracer constructed on the first invocation, not at import."""

    @functools.cached_property
    def tracer(self) -> Tracer:
        from aws_lambda_powertools import Tracer

        return Tracer(service=SERVICE)

    def capture_lambda_handler(
        self, handler: Callable[..., Any] | None = None, **options: Any
    ) -> Any:
        """Same use as ``Tracer.capture_lambda_handler`` (bare or with options)."""
        if handler is None:
            return functools.partial(self.capture_lambda_handler, **options)
        traced_handler: Callable[..., Any] | None = None

        @functools.wraps(handler)
        def traced(event: Any, context: Any) -> Any:
            nonlocal traced_handler
            if traced_handler is None:
                traced_handler = self.tracer.capture_lambda_handler(handler, **options)
            return traced_handler(event, context)

        return traced

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tracer, name)


tracer = LazyTracer()
