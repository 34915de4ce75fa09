"""Every handler imports with nothing but what a deployed function has: its zip (``functions/``
and ``shared/`` alone), the Lambda runtime (the standard library and the AWS SDK), the Powertools
layer (Powertools with its extras: pydantic, the X-Ray SDK, ...) and our dependencies layer.
Anything else would be an ImportError in AWS that no other local test would see.

The deployed layer is built for arm64 and Python 3.13, so the handlers import against a copy
built from the same lock for this machine (``tests/infra/layers.py``), in an interpreter that
sees no site-packages (``-I -S``) and whose ``sys.path`` is only those folders.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.runtime import POWERTOOLS_VERSION, REPO_ROOT
from infra.wiring import FUNCTIONS
from tests.infra.layers import host_layer, runtime_and_powertools

pytestmark = pytest.mark.xdist_group("layer")

SHIPPED = ("functions", "shared")
# Run with -I -S: the standard library only, then the folders given as arguments.
IMPORT = """
import importlib, json, sys, sysconfig
sys.path[:0] = sys.argv[2:]
importlib.import_module(sys.argv[1])
files = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
print(json.dumps({"files": [f for f in files if f], "stdlib": sysconfig.get_paths()["stdlib"]}))
"""


@pytest.fixture(scope="module")
def beside_the_code(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """``sys.path`` of a deployed function: the zip's contents, our layer, runtime + Powertools."""
    code = tmp_path_factory.mktemp("zip")
    for package in SHIPPED:
        (code / package).symlink_to(REPO_ROOT / package, target_is_directory=True)
    return [code, host_layer(), runtime_and_powertools()]


def run_isolated(script: str, *arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, *map(str, arguments)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("module", [fn.module for fn in FUNCTIONS])
def test_a_handler_imports_with_the_runtime_and_the_layers_only(
    module: str, beside_the_code: list[Path]
) -> None:
    result = run_isolated(IMPORT, module, *beside_the_code)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    roots = (listing["stdlib"], *map(str, beside_the_code))
    assert [f for f in listing["files"] if not f.startswith(roots)] == []


def test_the_isolated_interpreter_sees_no_site_packages(beside_the_code: list[Path]) -> None:
    result = run_isolated(IMPORT, "moto", *beside_the_code)  # a dev dependency, in no layer
    assert "ModuleNotFoundError: No module named 'moto'" in result.stderr


def test_the_runtime_copy_holds_the_pinned_powertools(beside_the_code: list[Path]) -> None:
    script = "import sys; sys.path[:0] = sys.argv[1:]; import aws_lambda_powertools as p;"
    script += " print(p.__file__); from importlib.metadata import version;"
    script += " print(version('aws-lambda-powertools'))"
    result = run_isolated(script, runtime_and_powertools())
    path, version = result.stdout.split()
    assert path.startswith(str(runtime_and_powertools())) and version == POWERTOOLS_VERSION


def test_time_zones_come_from_the_layer_not_the_system(beside_the_code: list[Path]) -> None:
    script = (
        "import sys, zoneinfo; sys.path[:0] = sys.argv[1:]; zoneinfo.reset_tzpath([]);"
        " print(zoneinfo.ZoneInfo('Europe/Brussels').utcoffset(__import__('datetime')"
        ".datetime(2026, 7, 1)))"
    )
    assert run_isolated(script, host_layer()).stdout.strip() == "2:00:00"
    assert "ZoneInfoNotFoundError" in run_isolated(script).stderr
