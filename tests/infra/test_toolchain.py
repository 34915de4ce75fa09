"""The synthesized template passes cfn-lint, and the CDK CLI synthesizes the app as deployed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.app import STACK_NAME
from tests.infra.cfn import ROOT, Synth

pytestmark = pytest.mark.xdist_group("synth")

CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"


def test_cfn_lint_finds_nothing(synth: Synth) -> None:
    """No error and no warning; ``.cfnlintrc`` (read from the repository root) ignores only
    what CDK itself writes, each with its reason."""
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert cfn_lint, "cfn-lint is a dev dependency"
    assert (ROOT / ".cfnlintrc").is_file()
    result = subprocess.run(
        [cfn_lint, str(synth.template_path)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cdk_cli_synthesizes_the_app(tmp_path: Path) -> None:
    assert CDK_CLI.exists(), "the pinned CDK CLI is not installed: run `npm ci` (make test does)"
    env = {**os.environ, "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1"}
    result = subprocess.run(
        [str(CDK_CLI), "synth", "--quiet", "--output", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / f"{STACK_NAME}.template.json").is_file()
