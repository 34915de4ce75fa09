"""The link-signing keys: from Secrets Manager in AWS, from the settings locally.

The secret (or ``KBS_LINK_SECRET``) holds either one key or a JSON array of keys, current
first: sign with the first, verify against all, so rotation is "prepend the new key, drop the
oldest once its links have expired". Fetched on first use and cached for a few minutes, so a
warm Lambda picks up a rotation without a redeploy.
"""

from __future__ import annotations

import json
import threading
import time

from shared.platform.clients import client
from shared.platform.settings import Settings

CACHE_SECONDS = 300.0
MIN_KEY_BYTES = 16

_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[float, tuple[bytes, ...]]] = {}


def signing_keys(settings: Settings) -> tuple[bytes, ...]:
    """The keys, current first (never empty)."""
    cache_key = (settings.link_secret_name, settings.link_secret)
    with _lock:
        cached = _cache.get(cache_key)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
    if settings.link_secret_name:
        raw = client("secretsmanager").get_secret_value(SecretId=settings.link_secret_name)
        keys = parse_keys(raw["SecretString"])
    else:
        keys = parse_keys(settings.link_secret)
    with _lock:
        _cache[cache_key] = (time.monotonic(), keys)
    return keys


def parse_keys(value: str) -> tuple[bytes, ...]:
    """One key, or a JSON array of keys (current first)."""
    text = value.strip()
    items = json.loads(text) if text.startswith("[") else [text]
    keys = tuple(str(item).encode() for item in items if str(item))
    if not keys:
        raise ValueError("no link-signing key configured")
    if any(len(key) < MIN_KEY_BYTES for key in keys):
        raise ValueError(f"link-signing keys must be at least {MIN_KEY_BYTES} bytes")
    return keys


def clear_cache() -> None:
    with _lock:
        _cache.clear()
