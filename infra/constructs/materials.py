"""The materials bucket (slides and guidance notes) and the bucket of its access logs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.wiring import MATERIALS_PREFIX

ACCESS_LOG_EXPIRY = Duration.days(365)


class Materials(Construct):
    """Private, versioned, TLS-only, S3-managed encryption, events to EventBridge, RETAIN."""

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

    def grant(self, grantee: iam.IGrantable, *, write: bool) -> None:
        """Read (``s3:GetObject``) or read and write materials, under the materials prefix only."""
        actions = ["s3:GetObject", "s3:PutObject"] if write else ["s3:GetObject"]
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=actions, resources=[self.bucket.arn_for_objects(f"{MATERIALS_PREFIX}*")]
            )
        )
