"""Construct ids derived from names in the wiring declaration."""

from __future__ import annotations

import re


def construct_id(*names: str) -> str:
    """``("registration_processor",)`` -> ``RegistrationProcessor``; ``("GET /sessions",)`` ->
    ``GetSessions``: stable, CloudFormation-safe ids."""
    words = (w for name in names for w in re.split(r"[^0-9A-Za-z]+", name) if w)
    return "".join(w[:1].upper() + w[1:] for w in words) or "Root"
