"""The materials bucket (slides and guidance notes) and the bucket of its access logs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.wiring import CERTIFICATES_PREFIX, MATERIALS_PREFIX, QUARANTINE_PREFIX

ACCESS_LOG_EXPIRY = Duration.days(365)
QUARANTINE_EXPIRY = Duration.days(90)
"""Rejected uploads are kept this long for the organisers to look at, then deleted."""


class Materials(Construct):
    """Private, versioned, TLS-only, S3-managed encryption, events to EventBridge, RETAIN.

    Every version of a material is kept (registrants' links name theirs); only the
    quarantine prefix expires."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Log delivery through a bucket policy, not the LogDeliveryWrite ACL (ACLs stay off).
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,  # the only one S3 server access logs accept
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=ACCESS_LOG_EXPIRY)],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="materials/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    prefix=QUARANTINE_PREFIX,
                    expiration=QUARANTINE_EXPIRY,
                    noncurrent_version_expiration=QUARANTINE_EXPIRY,
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Same effect as `event_bridge_enabled=True`, set natively on the bucket instead of
        # through CDK's BucketNotificationsHandler custom resource (a Lambda with a managed
        # policy). Do not add `add_event_notification` calls: that handler would then own,
        # and overwrite, the notification configuration.
        cfn_bucket: s3.CfnBucket = self.bucket.node.default_child  # type: ignore[assignment]
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )

    def grant_certificates(self, grantee: iam.IGrantable, *, write: bool) -> None:
        """Read the certificates' PDFs (presigned downloads); with ``write``, also put and delete
        them (issue, erasure). Nothing outside the certificates prefix."""
        actions = ["s3:GetObject"]
        if write:
            actions += ["s3:PutObject", "s3:DeleteObject"]
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=actions,
                resources=[self.bucket.arn_for_objects(f"{CERTIFICATES_PREFIX}*")],
            )
        )

    def grant(self, grantee: iam.IGrantable, *, write: bool) -> None:
        """Read any version of the materials (presigned downloads name their version); with
        ``write``, also move a rejected upload: delete it from the materials prefix and put
        it under the quarantine prefix. Nothing outside those two prefixes."""
        actions = ["s3:GetObject", "s3:GetObjectVersion"]
        if write:
            actions += ["s3:DeleteObject", "s3:DeleteObjectVersion"]
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=actions, resources=[self.bucket.arn_for_objects(f"{MATERIALS_PREFIX}*")]
            )
        )
        if write:
            grantee.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:PutObject"],
                    resources=[self.bucket.arn_for_objects(f"{QUARANTINE_PREFIX}*")],
                )
            )
