"""CDK app entry point (``cdk.json``: ``python -m infra.app``): the Kbs stack, checked by cdk-nag.

cdk-nag runs as a policy-validation plugin: an unacknowledged finding makes synthesis fail
and the report (acknowledged findings included) is written to
``cdk.out/validation-report.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from infra import translations, wiring
from infra.deployment import validate
from infra.stack import KbsStack

STACK_NAME = "Kbs"


def build_app(functions: Sequence[wiring.Function] = wiring.FUNCTIONS, **app_props: Any) -> cdk.App:
    """The app with the Kbs stack and the nag plugins (``app_props`` go to ``cdk.App``).

    Raises ``infra.deployment.DeploymentError`` (naming the context keys) for a context that
    cannot make a working deployment, e.g. ``kbs:stage=prod`` with example addresses.
    """
    translations.compile_catalogs()  # the .mo files the Lambda asset ships (shared/i18n/locale)
    app = cdk.App(**app_props)
    validate(app.node.try_get_context)
    stack = KbsStack(
        app, STACK_NAME, functions=functions, description="Knowledge Building Series backend"
    )
    cdk.Tags.of(stack).add("project", "kbs")
    cdk.Tags.of(stack).add("stage", str(app.node.try_get_context("kbs:stage") or "dev"))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app


if __name__ == "__main__":
    import sys

    from infra.deployment import DeploymentError

    try:
        build_app().synth()
    except DeploymentError as refused:
        sys.exit(f"kbs: {refused}")
