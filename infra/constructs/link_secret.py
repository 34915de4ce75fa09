"""The key that signs personal links (join, cancel, materials)."""

from __future__ import annotations

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
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "Rotating an HMAC key would invalidate links already emailed; rotation is manual "
            "and planned with dual-key verification (old and new key accepted during the "
            "overlap), which a single-key rotation Lambda cannot coordinate.",
        )
