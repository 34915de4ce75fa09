"""Create the table described in the wiring declaration with plain boto3 (moto and local stack).

The CDK stack builds the same table from :data:`infra.wiring.TABLE` for AWS.
"""

from __future__ import annotations

from typing import Any

from infra.wiring import TABLE
from shared.platform.clients import client


def create_table(name: str) -> None:
    attributes = {TABLE.partition_key, TABLE.sort_key}
    for _, pk, sk in TABLE.indexes:
        attributes |= {pk, sk}
    indexes: list[dict[str, Any]] = [
        {
            "IndexName": index,
            "KeySchema": [
                {"AttributeName": pk, "KeyType": "HASH"},
                {"AttributeName": sk, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for index, pk, sk in TABLE.indexes
    ]
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)
        ],
        KeySchema=[
            {"AttributeName": TABLE.partition_key, "KeyType": "HASH"},
            {"AttributeName": TABLE.sort_key, "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=indexes,
    )
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE.ttl_attribute},
    )
