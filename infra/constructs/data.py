"""The single DynamoDB table, built from :data:`infra.wiring.TABLE`."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.wiring import TableSpec


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Data(Construct):
    """On-demand table with string keys, ALL-projection GSIs, TTL, PITR, encryption, RETAIN."""

    def __init__(self, scope: Construct, construct_id: str, *, spec: TableSpec) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string(spec.partition_key),
            sort_key=_string(spec.sort_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index_name, pk, sk in spec.indexes:
            self.table.add_global_secondary_index(
                index_name=index_name,
                partition_key=_string(pk),
                sort_key=_string(sk),
                projection_type=dynamodb.ProjectionType.ALL,
            )
