"""The key that signs personal links (join, cancel, materials)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.nag import acknowledge


class LinkSecret(Construct):
    """A generated Secrets Manager secret; functions with ``access.link_secret`` may read it."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="kbs: HMAC key signing personal links",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
            # Deleting the stack must not invalidate every link ever emailed (as the table and
            # buckets, the secret outlives the stack).
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "Rotation is manual and keeps links valid: prepend a new key to the secret (the "
            "first key signs, every key still verifies), and drop the old one once its links "
            "expire (README runbook: rotating the link key). A rotation Lambda replacing the "
            "single value would invalidate every link already emailed.",
        )
