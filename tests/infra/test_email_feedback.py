"""SES feedback reaches the suppression list: the configuration set publishes bounces,
complaints and rejects to the default bus, where the declared rule picks them up."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from infra import wiring
from tests.infra.cfn import Synth

pytestmark = pytest.mark.xdist_group("synth")


def test_the_configuration_set_sends_feedback_to_the_default_bus(declared: Synth) -> None:
    (destination,) = declared.of_type("AWS::SES::ConfigurationSetEventDestination").values()
    props = destination["Properties"]["EventDestination"]

    assert props["Enabled"] is True
    assert sorted(props["MatchingEventTypes"]) == ["bounce", "complaint", "reject"]
    bus_arn = str(props["EventBridgeDestination"]["EventBusArn"])
    assert ":event-bus/default" in bus_arn


def test_the_feedback_rule_listens_on_the_default_bus_with_the_declared_pattern(
    declared: Synth,
) -> None:
    (rule,) = wiring.function("email_feedback").of_kind(wiring.EventRule)
    assert rule.bus == "default"
    declared.assertions.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.ses"],
                "detail-type": Match.array_equals(
                    ["Email Bounced", "Email Complaint Received", "Email Rejected"]
                ),
            },
            "EventBusName": "default",
        },
    )
