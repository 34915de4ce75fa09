"""What a deployed function finds beside its code, rebuilt on this machine for the tests.

- :func:`target_layer`: our layer as deployed (arm64, Python 3.13): its contents are checked.
- :func:`host_layer`: the same lock installed for this machine, to import handlers against.
- :func:`runtime_and_powertools`: the Lambda runtime's boto3 and the Powertools layer's
  contents (``aws-lambda-powertools[all]`` at the pinned version, pydantic at the dev lock's
  version), for this machine.

Each is cached under ``.cache/`` by digest: the first run on a machine downloads the wheels.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.layer_build import HOST, TARGET, read_pins
from infra.runtime import DEV_LOCK, POWERTOOLS_VERSION, REPO_ROOT

PROVIDED_CACHE = REPO_ROOT / ".cache" / "provided"


def target_layer() -> Path:
    """The deployed layer's ``python/`` folder (manylinux aarch64, cp313)."""
    return TARGET.path() / "python"


def host_layer() -> Path:
    """The layer's ``python/`` folder installed from the same lock for this machine."""
    return HOST.path() / "python"


def runtime_and_powertools() -> Path:
    """A folder with boto3 (the runtime's SDK) and the Powertools layer's packages, at the
    versions of the dev lock; Powertools at :data:`POWERTOOLS_VERSION`.

    Raises ``subprocess.CalledProcessError`` when pip fails."""
    pins = read_pins(DEV_LOCK)
    requirements = [
        f"boto3=={pins['boto3']}",
        f"aws-lambda-powertools[all]=={POWERTOOLS_VERSION}",
        f"pydantic=={pins['pydantic']}",
    ]
    # Whatever else Powertools[all] needs comes at the dev lock's version when it has one.
    constraints = "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
    key = f"{requirements} {constraints} {sys.implementation.cache_tag} {platform.machine()}"
    done = PROVIDED_CACHE / hashlib.sha256(key.encode()).hexdigest()
    if done.is_dir():
        return done
    PROVIDED_CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=PROVIDED_CACHE))
    try:
        (staging.parent / f"{staging.name}.txt").write_text(constraints)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--only-binary=:all:",
                "--target",
                str(staging / "site"),
                "-c",
                str(staging.parent / f"{staging.name}.txt"),
                *requirements,
            ],
            check=True,
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )
        os.rename(staging / "site", done)
    except OSError:
        if not done.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        (staging.parent / f"{staging.name}.txt").unlink(missing_ok=True)
    return done


def tree_bytes(root: Path) -> int:
    """Bytes of every file under ``root`` (unzipped size; ``__pycache__`` excluded)."""
    return sum(
        p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and "__pycache__" not in p.parts
    )
