"""``DATA_DIR/local.json`` (how other commands find the running stack), its lock, and what
outlives a run: the link-signing key and the previous run's outbox, set aside.

One stack per data dir: ``kbs serve`` holds an exclusive ``flock`` on ``DATA_DIR/serve.lock``
for its whole life. The kernel drops it when the process dies, so a crash never leaves the
data dir locked; a stale ``local.json`` is recognised by its dead ``pid``.

A clean stop removes ``local.json``; so a ``local.json`` found by the next ``kbs serve``, once
it holds the lock, means the previous run was killed (:func:`recover_unclean_stop`). AWS is
moto, in memory: what that run held (registrations, sessions, queued work) is gone. The
link-signing key is kept in ``DATA_DIR/link-signing.key`` (mode 0600, made once), so links in
old emails still verify as genuine; they then name a booking this run does not hold.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from kbs.target import TargetError

LOCAL_JSON = "local.json"
LOCK_FILE = "serve.lock"
LINK_KEY_FILE = "link-signing.key"
OUTBOX = "outbox"
MIN_KEY_CHARS = 32


class AlreadyRunningError(RuntimeError):
    """Another ``kbs serve`` owns this data dir."""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def read_info(data_dir: Path) -> dict[str, Any]:
    """The running stack's ``local.json``; :class:`TargetError` if none is running there."""
    path = data_dir / LOCAL_JSON
    try:
        info: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise TargetError(f"no local stack at {path}: start one with `kbs serve`") from exc
    if not pid_alive(int(info.get("pid", 0))):
        raise TargetError(f"the local stack of {path} (pid {info.get('pid')}) is not running")
    return info


def write_info(data_dir: Path, info: dict[str, Any]) -> None:
    """Write ``local.json`` atomically (a reader never sees half of it)."""
    path = data_dir / LOCAL_JSON
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(info, indent=2))
    partial.replace(path)


def remove_info(data_dir: Path) -> None:
    (data_dir / LOCAL_JSON).unlink(missing_ok=True)


class DataDirLock:
    """The exclusive, non-blocking lock a stack holds on its data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        file = (self.data_dir / LOCK_FILE).open("a")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            raise AlreadyRunningError(self._holder()) from None
        self._file = file

    def release(self) -> None:
        if self._file:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def _holder(self) -> str:
        where = f"a local stack is already running on {self.data_dir}"
        with contextlib.suppress(OSError, ValueError, KeyError):
            info = json.loads((self.data_dir / LOCAL_JSON).read_text())
            where += f" (pid {info['pid']}, {info['api_url']})"
        return f"{where}: stop it (Ctrl-C) or use another --data-dir"


def link_key(data_dir: Path) -> str:
    """The data dir's link-signing key: made once (random, file mode 0600), then reused.

    Raises :class:`TargetError` if the file holds no usable key (shorter than 32 characters);
    a key file readable by others is made private again.
    """
    path = data_dir / LINK_KEY_FILE
    with contextlib.suppress(FileExistsError):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)
    key = path.read_text().strip()
    if len(key) < MIN_KEY_CHARS:
        raise TargetError(f"{path} holds no usable key: delete it to make a new one")
    return key


@dataclass(frozen=True)
class UncleanStop:
    """What the previous run left behind when it did not stop cleanly."""

    pid: int | None
    started_at: str | None

    def explanation(self) -> list[str]:
        """What happened and what it means, as lines for the person starting ``kbs serve``."""
        run = f"pid {self.pid}" if self.pid else "unknown pid"
        since = f", started {self.started_at}" if self.started_at else ""
        return [
            f"The previous local stack on this data dir ({run}{since}) did not stop cleanly "
            "(killed or crashed).",
            "  AWS here is moto, in memory: everything that run held is gone: sessions, "
            "registrations, materials, and work accepted but not yet processed (queued "
            "events, emails not yet sent). Import the programme again.",
            "  Links in its emails still verify (the signing key is kept in the data dir); "
            "they now lead to a booking this run does not hold.",
        ]


def recover_unclean_stop(data_dir: Path) -> UncleanStop | None:
    """Called holding the lock: if the previous run left ``local.json`` (it did not stop
    cleanly), remove it and say what that run left; else ``None``."""
    path = data_dir / LOCAL_JSON
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    info: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        info = json.loads(text)
    path.unlink()
    pid = info.get("pid")
    return UncleanStop(
        pid=pid if isinstance(pid, int) else None,
        started_at=str(info["started_at"]) if "started_at" in info else None,
    )


def set_outbox_aside(data_dir: Path) -> Path | None:
    """Called holding the lock, at every start: a previous run's emails (a non-empty
    ``outbox``) are moved to ``outbox.previous-{UTC time}``, since every run starts from moto's
    empty memory and its outbox should hold its own emails only. Where they went, or None."""
    outbox = data_dir / OUTBOX
    if not outbox.is_dir() or not any(outbox.iterdir()):
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = data_dir / f"{OUTBOX}.previous-{stamp}"
    for n in range(2, 100):
        if not moved.exists():
            break
        moved = data_dir / f"{OUTBOX}.previous-{stamp}-{n}"
    outbox.rename(moved)
    return moved
