"""``DATA_DIR/local.json`` (how other commands find the running stack) and its lock.

One stack per data dir: ``kbs serve`` holds an exclusive ``flock`` on ``DATA_DIR/serve.lock``
for its whole life. The kernel drops it when the process dies, so a crash never leaves the
data dir locked; a stale ``local.json`` is recognised by its dead ``pid``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import IO, Any

from kbs.target import TargetError

LOCAL_JSON = "local.json"
LOCK_FILE = "serve.lock"


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
