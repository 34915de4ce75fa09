"""Reading a synthesized CloudFormation template: resources by type and what refers to what."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from infra import wiring
from infra.app import STACK_NAME, build_app

ROOT = Path(__file__).resolve().parents[2]
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]

Resource = dict[str, Any]


@dataclass(frozen=True)
class Synth:
    """One synthesis of the app (with the nag plugins) and what it wrote."""

    app: cdk.App
    outdir: Path
    functions: tuple[wiring.Function, ...]
    template: dict[str, Any]

    @property
    def assertions(self) -> Template:
        return Template.from_json(self.template)

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{STACK_NAME}.template.json"

    @property
    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text())

    @property
    def resources(self) -> dict[str, Resource]:
        return self.template["Resources"]

    def of_type(self, cfn_type: str) -> dict[str, Resource]:
        return {k: r for k, r in self.resources.items() if r["Type"] == cfn_type}

    def handler_of(self, function_id: str) -> str:
        """The handler string of the Lambda with logical id ``function_id``."""
        return self.resources[function_id]["Properties"]["Handler"]


def synthesize(functions: tuple[wiring.Function, ...], outdir: Path, **context: str) -> Synth:
    """Synthesize the app as ``cdk synth`` does (cdk.json context, then ``context`` as
    ``-c KEY=VALUE`` would, nag plugins); raises on any unacknowledged nag finding."""
    app = build_app(functions, context={**CDK_CONTEXT, **context}, outdir=str(outdir))
    app.synth()
    template = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    return Synth(app=app, outdir=outdir, functions=functions, template=template)


def ref(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points to (``None`` otherwise)."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def statements(synth: Synth) -> list[tuple[str, dict[str, Any]]]:
    """Every IAM policy statement, with the logical id of its policy."""
    return [
        (policy_id, statement)
        for policy_id, policy in synth.of_type("AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
