"""The laptop runs what AWS runs: the dev lock agrees with ``pyproject.toml``, with the
Powertools inside the referenced layer version (``infra/runtime.py``) and with the layer's lock.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version

from packaging.requirements import Requirement

from infra.layer_build import canonical_name, read_pins
from infra.lock import provided_names
from infra.runtime import DEV_LOCK, LAYER_IN, LAYER_LOCK, POWERTOOLS_VERSION, REPO_ROOT

PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]


def requirements(lines: list[str]) -> list[Requirement]:
    return [Requirement(line) for line in (raw.split("#")[0].strip() for raw in lines) if line]


def declared() -> list[Requirement]:
    """pyproject's dependencies and dev extra, and the layer's top-level packages."""
    project = [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["dev"]]
    return requirements([*project, *LAYER_IN.read_text().splitlines()])


def test_powertools_is_pinned_to_the_version_inside_the_referenced_layer() -> None:
    (powertools,) = [r for r in declared() if r.name == "aws-lambda-powertools"]
    assert str(powertools.specifier) == f"=={POWERTOOLS_VERSION}"
    assert read_pins(DEV_LOCK)["aws-lambda-powertools"] == POWERTOOLS_VERSION
    assert version("aws-lambda-powertools") == POWERTOOLS_VERSION, "run make to reinstall"


def test_the_dev_lock_satisfies_every_declared_requirement() -> None:
    pins = read_pins(DEV_LOCK)
    unmet = {
        str(r): pins.get(canonical_name(r.name))
        for r in declared()
        if canonical_name(r.name) not in pins or pins[canonical_name(r.name)] not in r.specifier
    }
    assert unmet == {}, "stale lock: run make lock"


def test_the_laptop_has_the_layer_versions() -> None:
    dev = read_pins(DEV_LOCK)
    layer = read_pins(LAYER_LOCK)
    assert {name: dev.get(name) for name in layer} == layer


def test_the_layer_lock_leaves_the_runtime_sdk_out() -> None:
    assert set(read_pins(LAYER_LOCK)) & set(provided_names()) == set()
    assert set(provided_names()) >= {"boto3", "botocore", "python-dateutil"}
