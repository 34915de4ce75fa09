"""cdk-nag (AWS Solutions and Serverless packs) passes, with few, specific, explained exceptions.

The session fixtures synthesize with the plugins registered by ``infra.app.build_app``: an
unacknowledged finding makes synthesis raise, so every test here would error.
"""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from constructs import IConstruct

from tests.infra.cfn import Synth

pytestmark = pytest.mark.xdist_group("synth")

PACKS = {"AwsSolutions", "Serverless"}
# Pack::Pack-Rule, optionally with one finding: AwsSolutions::AwsSolutions-IAM5[Resource::*]
ACK_ID = re.compile(r"^(?P<pack>\w+)::(?P=pack)-(?P<rule>\w+)(\[(?P<finding>.+)\])?$")
# Rules reporting one finding per wildcard: acknowledge findings, never the whole rule.
PER_FINDING_RULES = {"IAM4", "IAM5"}


def acknowledgments(synth: Synth) -> list[tuple[IConstruct, str, str]]:
    """(construct, id, reason) of every ``Validations.acknowledge`` in the app."""
    return [
        (construct, ack_id, reason)
        for construct in synth.app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for ack_id, reason in entry.data.items()
    ]


def test_both_packs_ran_and_passed(synth: Synth) -> None:
    reports = {r["pluginName"]: r for r in synth.validation_report["pluginReports"]}
    assert set(reports) == PACKS
    for report in reports.values():
        assert report["conclusion"] == "success"
        assert report["violations"] == []


def test_every_acknowledgment_is_specific_and_explained(synth: Synth) -> None:
    acks = acknowledgments(synth)
    assert acks
    for construct, ack_id, reason in acks:
        where = f"{construct.node.path}: {ack_id}"
        match = ACK_ID.match(ack_id)
        assert match and match["pack"] in PACKS, where
        if match["rule"] in PER_FINDING_RULES:
            assert match["finding"], f"{where} silences every finding of the rule"
        assert len(reason.split()) >= 8, f"{where}: say why in a sentence"
        assert not isinstance(construct, cdk.Stage | cdk.Stack), f"{where}: too broad a scope"


def test_every_acknowledgment_suppresses_a_real_finding(synth: Synth) -> None:
    """No stale acknowledgments: each one matches a finding the packs reported."""
    used = {
        (s["acknowledgedAt"], s["acknowledgedId"])
        for report in synth.validation_report["pluginReports"]
        for s in report["suppressedViolations"]
    }
    declared = {(construct.node.path, ack_id) for construct, ack_id, _ in acknowledgments(synth)}
    assert declared - used == set()
