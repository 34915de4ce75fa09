"""Our Lambda layer of third-party packages (``requirements/layer.in``), bundled locally by pip
for the Lambda's platform: no Docker, cached by the lock file's digest (:mod:`infra.layer_build`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.layer_build import TARGET, LayerBuild
from infra.runtime import ARCHITECTURE, REQUIREMENTS, RUNTIME


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """Copies the (cached) pip build of the layer into CDK's bundling output folder."""

    def __init__(self, build: LayerBuild) -> None:
        self.build = build

    def try_bundle(self, output_dir: str, *_options: Any, **_keywords: Any) -> bool:
        """Always bundles locally (``True``): Docker, CDK's fallback, is never needed.
        Raises ``subprocess.CalledProcessError`` when pip fails."""
        shutil.copytree(self.build.path(), Path(output_dir), dirs_exist_ok=True)
        return True


class DependenciesLayer(Construct):
    """``self.layer``: the layer version every function gets beside the Powertools layer."""

    def __init__(self, scope: Construct, construct_id: str, build: LayerBuild = TARGET) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_asset(
            str(REQUIREMENTS),
            asset_hash=build.digest,
            asset_hash_type=AssetHashType.CUSTOM,
            bundling=BundlingOptions(image=RUNTIME.bundling_image, local=LocalPipBundling(build)),
        )
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=code,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description=f"kbs third-party packages (requirements/layer.txt {build.digest[:12]})",
        )
