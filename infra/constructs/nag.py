"""Acknowledging a cdk-nag finding: one rule (or one finding of a rule) on one construct."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge ``rule_id`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope`` and below.

    The id is qualified with its pack (``AwsSolutions::``, ``Serverless::``) as the CDK
    validation report prints it, so it cannot silence another plugin's rule of the same name.
    """
    pack = rule_id.split("-", 1)[0]
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{pack}::{rule_id}", reason=reason))
