"""What the Lambdas run, in one place: Python version, CPU, the public Powertools layer and the
Powertools version inside it, and the lock files of our own dependencies layer.

``pyproject.toml`` pins ``aws-lambda-powertools`` to :data:`POWERTOOLS_VERSION` and the dev lock
installs it, so the laptop runs the Powertools that AWS runs (``tests/infra/test_locks.py``
checks that they agree). Moving to a newer layer version: set both constants from the layer's
documented contents, pin ``pyproject.toml``, then ``make lock``.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parents[1]

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
PYTHON_VERSION = RUNTIME.name.removeprefix("python")
"""``"3.13"``: the Python the Lambdas run (this machine and CI run 3.11: code valid on both)."""

POWERTOOLS_ACCOUNT = "017000801446"
POWERTOOLS_LAYER = (
    f"AWSLambdaPowertoolsPythonV3-{RUNTIME.name.replace('.', '')}-{ARCHITECTURE.name}"
)
POWERTOOLS_LAYER_VERSION = 27
POWERTOOLS_VERSION = "3.23.0"
"""The ``aws-lambda-powertools`` release inside :data:`POWERTOOLS_LAYER` version
:data:`POWERTOOLS_LAYER_VERSION` (built as ``aws-lambda-powertools[all]``: pydantic,
pydantic-settings, aws-xray-sdk, fastjsonschema, aws-encryption-sdk, jsonpath-ng)."""

REQUIREMENTS = REPO_ROOT / "requirements"
LAYER_IN = REQUIREMENTS / "layer.in"
"""Top-level packages of our dependencies layer (hand-written)."""
LAYER_LOCK = REQUIREMENTS / "layer.txt"
"""Every package of the layer, pinned with hashes, resolved for :data:`LAYER_PLATFORM`."""
PROVIDED = REQUIREMENTS / "provided.txt"
"""Constraints: the runtime's AWS SDK, which the layer must accept and never ship."""
DEV_LOCK = REQUIREMENTS / "dev.txt"
"""The dev environment (``make`` installs it), pinned with hashes."""

CPU = {"arm64": "aarch64", "x86_64": "x86_64"}[ARCHITECTURE.name]
MANYLINUX = "manylinux_2_28"
"""The newest wheel ABI the layer may use: the python3.13 runtime is Amazon Linux 2023 (glibc
2.34). Not manylinux2014 (glibc 2.17): Pillow 13 ships aarch64 wheels for glibc 2.28 only."""
LAYER_PLATFORM = f"{MANYLINUX}_{CPU}"
"""The pip ``--platform`` of the layer's wheels (pip accepts every older manylinux tag too)."""
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
"""Lambda quota: function code and all its layers, unzipped, at most 250 MB."""


def powertools_layer_arn(partition: str, region: str) -> str:
    """The ARN of the public Powertools layer version the stack references."""
    return (
        f"arn:{partition}:lambda:{region}:{POWERTOOLS_ACCOUNT}:layer:"
        f"{POWERTOOLS_LAYER}:{POWERTOOLS_LAYER_VERSION}"
    )
