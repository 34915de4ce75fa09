"""Session fixtures: the app is synthesized once per session (synthesis takes seconds)."""

from __future__ import annotations

import pytest

from infra import wiring
from tests.infra.cfn import Synth, synthesize

# Test-only: a declaration that exercises what the real one does not declare yet (schedules,
# default-bus rules with a detail filter, bucket access).
EXERCISER = wiring.Function(
    name="exerciser",
    handler="functions.exerciser.handler.handler",
    description="Test-only function exercising every trigger and access kind",
    triggers=(
        wiring.Schedule("EveryFiveMinutes", "rate(5 minutes)"),
        wiring.Schedule("Nightly", "cron(0 2 * * ? *)"),
        wiring.EventRule(
            "ExerciserUploads",
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"object": {"key": [{"prefix": wiring.MATERIALS_PREFIX}]}},
            },
            bus="default",
        ),
        wiring.HttpRoute("GET", "/exerciser"),
    ),
    access=wiring.Access(table="read", bucket="write", send_email=True),
    timeout_seconds=120,
    memory_mb=256,
)


@pytest.fixture(scope="session")
def declared(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The stack of the real declaration, ``infra.wiring.FUNCTIONS``."""
    return synthesize(wiring.FUNCTIONS, tmp_path_factory.mktemp("cdk-declared"))


@pytest.fixture(scope="session")
def extended(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The real declaration plus :data:`EXERCISER`."""
    return synthesize((*wiring.FUNCTIONS, EXERCISER), tmp_path_factory.mktemp("cdk-extended"))


# A production deployment's context (``cdk deploy -c kbs:stage=prod -c ...``): a domain
# identity, an alarm address and a budget. Real-looking names: example domains are refused.
PRODUCTION = {
    "kbs:stage": "prod",
    "kbs:senderDomain": "kbs.city-of-ghent.eu",
    "kbs:senderEmail": "series@kbs.city-of-ghent.eu",
    "kbs:publicBaseUrl": "https://kbs.city-of-ghent.eu",
    "kbs:organiserEmail": "procurement@city-of-ghent.eu",
    "kbs:alarmEmail": "kbs-alarms@city-of-ghent.eu",
    "kbs:monthlyBudget": "50",
}


@pytest.fixture(scope="session")
def production(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The real declaration with the :data:`PRODUCTION` context."""
    return synthesize(wiring.FUNCTIONS, tmp_path_factory.mktemp("cdk-production"), **PRODUCTION)


@pytest.fixture(params=["declared", "extended", "production"])
def synth(request: pytest.FixtureRequest) -> Synth:
    """Each synthesis in turn: checks that hold for any declaration."""
    return request.getfixturevalue(request.param)
