"""Quality values of HTTP content negotiation (``Accept``, ``Accept-Language``)."""

from __future__ import annotations


def quality_values(header: str) -> list[tuple[str, float]]:
    """Each element of a comma-separated header with its ``q`` weight (RFC 9110 12.4.2), in the
    header's order: ``"fr-BE, en;q=0.5"`` -> ``[("fr-BE", 1.0), ("en", 0.5)]``. A ``q`` that is
    not a number counts as 0 (not acceptable); the value keeps its case."""
    found: list[tuple[str, float]] = []
    for item in header.split(","):
        value, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, given = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(given)
                except ValueError:
                    quality = 0.0
        found.append((value, quality))
    return found
