"""Builds the dependencies layer's ``python/`` folder with pip, no Docker, cached by digest.

pip installs the locked wheels for the Lambda's platform (``--platform manylinux_2_28_aarch64
--only-binary=:all: --python-version 3.13 --implementation cp``), whatever machine runs it. The
result is kept under ``.cache/layer/<sha256>/`` (the digest of the lock, the constraints and the
target), so synthesis and tests install once per lock file and machine.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from infra.runtime import LAYER_LOCK, LAYER_PLATFORM, PROVIDED, PYTHON_VERSION, REPO_ROOT

CACHE = REPO_ROOT / ".cache" / "layer"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def canonical_name(name: str) -> str:
    """The PEP 503 normalized project name (``Jinja2`` -> ``jinja2``, ``a_b.c`` -> ``a-b-c``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(lock: Path) -> dict[str, str]:
    """``{canonical name: version}`` of every ``name==version`` line of a requirements lock."""
    return {canonical_name(name): version for name, version in PIN.findall(lock.read_text())}


@dataclass(frozen=True)
class LayerBuild:
    """The layer's packages for one target: ``platform``/``python_version`` ``None`` mean this
    machine's own (the x86 copy the import tests run against)."""

    platform: str | None = LAYER_PLATFORM
    python_version: str | None = PYTHON_VERSION

    @property
    def options(self) -> list[str]:
        """How pip installs: the locked wheels only (hash-checked; ``--no-deps``, the lock is
        complete), without bytecode (compiled by this machine's Python, useless on 3.13)."""
        options = ["--require-hashes", "--no-deps", "--no-compile", "--only-binary=:all:"]
        if self.platform:
            options += ["--platform", self.platform, "--implementation", "cp"]
        if self.python_version:
            options += ["--python-version", self.python_version]
        return options

    @property
    def digest(self) -> str:
        """sha256 (hex) of the lock, the constraints, pip's options and, for a host build,
        this machine's Python and CPU."""
        host = "" if self.platform else f"{sys.implementation.cache_tag} {platform.machine()}"
        h = hashlib.sha256(f"{' '.join(self.options)} {host}\n".encode())
        for path in (LAYER_LOCK, PROVIDED):
            h.update(path.read_bytes())
        return h.hexdigest()

    def pip_arguments(self, target: Path) -> list[str]:
        """``pip install`` arguments putting the locked packages into ``target``."""
        lock, constraints = str(LAYER_LOCK), str(PROVIDED)
        return [
            "install",
            "--quiet",
            *self.options,
            "-r",
            lock,
            "-c",
            constraints,
            "--target",
            str(target),
        ]

    def path(self) -> Path:
        """The folder holding ``python/`` (the layer's layout), built on first use.

        Raises ``subprocess.CalledProcessError`` when pip fails (no index reachable, a wheel
        missing for the platform, a hash mismatch)."""
        done = CACHE / self.digest
        if done.is_dir():
            return done
        CACHE.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{self.digest[:12]}-", dir=CACHE))
        try:
            subprocess.run(  # noqa: S603 - our own interpreter's pip, arguments from the locks
                [sys.executable, "-m", "pip", *self.pip_arguments(staging / "python")],
                check=True,
                env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
            )
            os.rename(staging, done)  # atomic; another process may have won the race
        except OSError:
            if not done.is_dir():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return done


TARGET = LayerBuild()
"""The layer as deployed: manylinux wheels for the Lambda's CPU and Python."""
HOST = LayerBuild(platform=None, python_version=None)
"""The same lock installed for this machine, to import the handlers against."""
