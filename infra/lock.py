"""Regenerates the lock files (``make lock``) with uv, from ``requirements/layer.in`` and
``pyproject.toml``.

- ``requirements/layer.txt``: the layer, resolved for the Lambda (Python 3.13, manylinux2014
  on its CPU) against the runtime's SDK constraints (``requirements/provided.txt``), which it
  never emits.
- ``requirements/dev.txt``: the dev environment (project dependencies, ``dev`` extra and the
  layer's packages at the layer's versions), resolved for every platform and Python >= 3.11.

Both carry hashes. Raises ``subprocess.CalledProcessError`` when uv fails to resolve.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

from infra.layer_build import canonical_name
from infra.runtime import (
    CPU,
    DEV_LOCK,
    LAYER_IN,
    LAYER_LOCK,
    MANYLINUX,
    PROVIDED,
    PYTHON_VERSION,
    REPO_ROOT,
)

HEADER = "make lock"


def provided_names() -> list[str]:
    """The project names listed in ``requirements/provided.txt``."""
    lines = (line.split("#")[0].strip() for line in PROVIDED.read_text().splitlines())
    return [canonical_name(Requirement(line).name) for line in lines if line]


def compile_(*arguments: str, output: Path) -> None:
    """``uv pip compile`` with hashes into ``output`` (paths relative to the repository)."""
    uv = Path(sys.executable).with_name("uv")
    subprocess.run(  # noqa: S603 - the venv's uv, our own arguments
        [
            str(uv),
            "pip",
            "compile",
            "--quiet",
            "--generate-hashes",
            "--custom-compile-command",
            HEADER,
            *arguments,
            "-o",
            str(output.relative_to(REPO_ROOT)),
        ],
        check=True,
        cwd=REPO_ROOT,
    )


def main() -> None:
    relative = [str(p.relative_to(REPO_ROOT)) for p in (LAYER_IN, PROVIDED, LAYER_LOCK)]
    layer_in, provided, layer_lock = relative
    no_emit = [a for name in provided_names() for a in ("--no-emit-package", name)]
    compile_(
        layer_in,
        "-c",
        provided,
        *no_emit,
        "--only-binary",
        ":all:",
        "--python-platform",
        f"{CPU}-{MANYLINUX}",
        "--python-version",
        PYTHON_VERSION,
        output=LAYER_LOCK,
    )
    compile_(
        "pyproject.toml",
        "--extra",
        "dev",
        layer_in,
        "-c",
        layer_lock,
        "--universal",
        "--python-version",
        "3.11",
        output=DEV_LOCK,
    )


if __name__ == "__main__":
    main()
