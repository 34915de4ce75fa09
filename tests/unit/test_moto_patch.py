"""The local stack's patch of moto's TransactWriteItems (kbs/local/moto_patch.py).

Pinned to moto's code: the first test fails when a moto upgrade changes a patched function
(review the patch, then update ``PINNED``). The others run real transactions on
in-process moto with the patch applied.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from kbs.local import moto_dynamodb, moto_patch

TABLE = "patched"


def _aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def test_the_patched_moto_code_is_the_code_the_patch_was_written_for() -> None:
    assert moto_patch.source_digests() == moto_patch.PINNED
    assert moto_patch.apply() is True
    assert moto_patch.apply() is True  # idempotent


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    _aws_environment(monkeypatch)
    assert moto_patch.apply()
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for pk, value in (("SESSION", "1"), ("OLD", "2"), ("KEEP", "3")):
            client.put_item(
                TableName=TABLE, Item={"PK": {"S": pk}, "SK": {"S": "A"}, "n": {"N": value}}
            )
        yield client


def _key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "A"}}


def _actions(condition_on_keep: str) -> list[dict[str, Any]]:
    """Update SESSION, put NEW, delete OLD, and a condition on KEEP (true or false)."""
    return [
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key("SESSION"),
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {
            "Put": {
                "TableName": TABLE,
                "Item": {**_key("NEW"), "n": {"N": "9"}},
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        {"Delete": {"TableName": TABLE, "Key": _key("OLD")}},
        {
            "ConditionCheck": {
                "TableName": TABLE,
                "Key": _key("KEEP"),
                "ConditionExpression": condition_on_keep,
                "ExpressionAttributeValues": {":three": {"N": "3"}},
            }
        },
    ]


def _table(client: Any) -> dict[str, str]:
    items = client.scan(TableName=TABLE)["Items"]
    return {item["PK"]["S"]: item["n"]["N"] for item in items}


def test_a_cancelled_transaction_leaves_the_table_as_it_was(dynamodb: Any) -> None:
    before = _table(dynamodb)

    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(TransactItems=_actions("n <> :three"))

    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert _table(dynamodb) == before == {"SESSION": "1", "OLD": "2", "KEEP": "3"}


def test_a_transaction_naming_one_item_twice_changes_nothing(dynamodb: Any) -> None:
    twice = [
        {"Put": {"TableName": TABLE, "Item": {**_key("NEW"), "n": {"N": "1"}}}},
        {"Delete": {"TableName": TABLE, "Key": _key("OLD")}},
        {"Put": {"TableName": TABLE, "Item": {**_key("NEW"), "n": {"N": "2"}}}},
    ]

    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=twice)

    assert _table(dynamodb) == {"SESSION": "1", "OLD": "2", "KEEP": "3"}


def test_a_successful_transaction_applies_every_action(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=_actions("n = :three"))

    assert _table(dynamodb) == {"SESSION": "2", "NEW": "9", "KEEP": "3"}


def test_a_transaction_copies_the_items_it_writes_not_the_table(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = boto3.resource("dynamodb").Table(TABLE)
    with table.batch_writer() as writer:
        for n in range(500):
            writer.put_item(Item={"PK": f"FILL#{n}", "SK": "A", "n": n})
    copied: list[type] = []
    deepcopy = copy.deepcopy
    monkeypatch.setattr(copy, "deepcopy", lambda v, *a: copied.append(type(v)) or deepcopy(v, *a))

    with pytest.raises(ClientError):  # cancelled: the rollback path as well
        dynamodb.transact_write_items(TransactItems=_actions("n <> :three"))
    dynamodb.transact_write_items(TransactItems=_actions("n = :three"))

    assert Table not in copied
    assert copied.count(Item) <= 2 * 3 + 2  # the 3 written items a transaction, and the update


def test_moto_no_longer_keeps_every_model_it_ever_made(dynamodb: Any) -> None:
    tracked = len(Item.instances_tracked)  # type: ignore[attr-defined]

    for n in range(50):
        dynamodb.put_item(TableName=TABLE, Item={**_key(f"NEW#{n}"), "n": {"N": "1"}})
        dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "KEEP"}},
        )

    assert len(Item.instances_tracked) == tracked  # type: ignore[attr-defined]


def test_a_query_returns_its_items_in_key_order(dynamodb: Any) -> None:
    for sort_key in ("c", "a", "b"):
        dynamodb.put_item(TableName=TABLE, Item={"PK": {"S": "Q"}, "SK": {"S": sort_key}})

    items = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "Q"}},
    )["Items"]
    backwards = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "Q"}},
        ScanIndexForward=False,
        Limit=2,
    )

    assert [item["SK"]["S"] for item in items] == ["a", "b", "c"]
    assert [item["SK"]["S"] for item in backwards["Items"]] == ["c", "b"]
    assert backwards["LastEvaluatedKey"]["SK"] == {"S": "b"}


def _indexed_table(client: Any, rows: Sequence[dict[str, Any]] = ()) -> None:
    """Table ``indexed`` with GSI (partition key G, sort key GS) and GSI-H (partition key H
    only), holding ``rows`` (plain values) as items ``P0``, ``P1``, ... with sort key ``A``."""
    attributes = [("PK", "S"), ("SK", "S"), ("G", "S"), ("GS", "N"), ("H", "S")]
    client.create_table(
        TableName="indexed",
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in attributes],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI",
                "KeySchema": [
                    {"AttributeName": "G", "KeyType": "HASH"},
                    {"AttributeName": "GS", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "GSI-H",
                "KeySchema": [{"AttributeName": "H", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    with boto3.resource("dynamodb").Table("indexed").batch_writer() as writer:
        for n, row in enumerate(rows):
            writer.put_item(Item={"PK": f"P{n}", "SK": "A", **row})


def test_a_gsi_query_returns_exactly_its_matches_in_index_order(dynamodb: Any) -> None:
    _indexed_table(dynamodb)
    for n in range(30):
        item = {"PK": {"S": f"P{n}"}, "SK": {"S": "A"}, "GS": {"N": str(30 - n)}}
        if n % 3:
            item["G"] = {"S": "odd" if n % 2 else "even"}
        dynamodb.put_item(TableName="indexed", Item=item)

    found = dynamodb.query(
        TableName="indexed",
        IndexName="GSI",
        KeyConditionExpression="G = :g AND GS > :low",
        ExpressionAttributeValues={":g": {"S": "odd"}, ":low": {"N": "10"}},
    )["Items"]
    missing = dynamodb.query(
        TableName="indexed",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "nobody"}},
    )["Items"]

    expected = [n for n in range(30) if n % 3 and n % 2 and 30 - n > 10]
    assert [item["PK"]["S"] for item in found] == [f"P{n}" for n in sorted(expected, reverse=True)]
    assert missing == []


def _gsi_query(client: Any, index: str, attribute: str, value: str) -> list[str]:
    """Every page of a Query of ``index`` for ``attribute = value``: the items' PKs in order."""
    found: list[str] = []
    query: dict[str, Any] = {
        "TableName": "indexed",
        "IndexName": index,
        "KeyConditionExpression": f"{attribute} = :v",
        "ExpressionAttributeValues": {":v": {"S": value}},
        "Limit": 7,
    }
    while True:
        page = client.query(**query)
        found += [item["PK"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _scanned(client: Any, attribute: str, value: str, sort: str | None) -> list[str]:
    """What an index of ``attribute`` holds for ``value``, from a Scan, in index order."""
    items = client.scan(TableName="indexed")["Items"]
    held = [i for i in items if i.get(attribute) == {"S": value} and (not sort or sort in i)]
    order = (lambda i: (float(i[sort]["N"]), i["PK"]["S"])) if sort else (lambda i: i["PK"]["S"])
    return [item["PK"]["S"] for item in sorted(held, key=order)]


def _random_write(client: Any, rng: random.Random, values: list[str]) -> None:
    """One write of the kinds the GSI buckets must follow, with random keys and values."""
    pk, value, kind = f"P{rng.randrange(40)}", rng.choice(values), rng.randrange(7)
    key = {"PK": {"S": pk}, "SK": {"S": "A"}}
    set_g = {
        "UpdateExpression": "SET G = :g, GS = :n",
        "ExpressionAttributeValues": {":g": {"S": value}, ":n": {"N": str(rng.randrange(9))}},
    }
    if kind == 0:
        item = {**key, "GS": {"N": str(rng.randrange(9))}, "H": {"S": rng.choice(values)}}
        if rng.random() < 0.8:
            item["G"] = {"S": value}
        client.put_item(TableName="indexed", Item=item)
    elif kind == 1:
        client.update_item(TableName="indexed", Key=key, **set_g)
    elif kind == 2:
        client.update_item(TableName="indexed", Key=key, UpdateExpression="REMOVE G, H")
    elif kind == 3:
        client.delete_item(TableName="indexed", Key=key)
    elif kind == 4:  # a transaction, cancelled half the time by its condition check
        other = {"PK": {"S": f"P{rng.randrange(40, 45)}"}, "SK": {"S": "A"}}
        client.put_item(TableName="indexed", Item={**other, "H": {"S": value}})
        check = "attribute_exists(PK)" if rng.random() < 0.5 else "attribute_not_exists(PK)"
        actions = [
            {"Update": {"TableName": "indexed", "Key": key, **set_g}},
            {"Put": {"TableName": "indexed", "Item": {**key, "H": {"S": "x"}, "SK": {"S": "B"}}}},
            {
                "ConditionCheck": {
                    "TableName": "indexed",
                    "Key": other,
                    "ConditionExpression": check,
                }
            },
        ]
        with contextlib.suppress(ClientError):
            client.transact_write_items(TransactItems=actions)
    elif kind == 5:
        requests = [
            {"PutRequest": {"Item": {"PK": {"S": f"P{n}"}, "SK": {"S": "A"}, "G": {"S": value}}}}
            for n in rng.sample(range(40), 3)
        ]
        requests.append(
            {"DeleteRequest": {"Key": {"PK": {"S": f"P{rng.randrange(40)}"}, "SK": {"S": "A"}}}}
        )
        client.batch_write_item(RequestItems={"indexed": requests})
    else:  # refused by its condition: nothing changes
        with contextlib.suppress(ClientError):
            client.update_item(
                TableName="indexed",
                Key=key,
                ConditionExpression="GS > :big",
                **{
                    **set_g,
                    "ExpressionAttributeValues": {
                        **set_g["ExpressionAttributeValues"],
                        ":big": {"N": "99"},
                    },
                },
            )


def test_a_gsi_query_finds_what_a_scan_finds_through_every_kind_of_write(dynamodb: Any) -> None:
    _indexed_table(dynamodb)
    rng, values = random.Random(11), ["red", "green", "blue"]
    for step in range(400):
        _random_write(dynamodb, rng, values)
        if step % 20:
            continue
        for value in values:
            assert _gsi_query(dynamodb, "GSI", "G", value) == _scanned(dynamodb, "G", value, "GS")
            on_h = sorted(_gsi_query(dynamodb, "GSI-H", "H", value))
            assert on_h == _scanned(dynamodb, "H", value, None)
    assert any(_gsi_query(dynamodb, "GSI", "G", value) for value in values)


def test_a_gsi_added_to_a_table_with_items_finds_them_in_its_own_buckets(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _indexed_table(dynamodb)
    for n in range(25):
        item = {"PK": {"S": f"P{n}"}, "SK": {"S": "A"}, "G": {"S": "g"}}
        dynamodb.put_item(TableName="indexed", Item={**item, "J": {"S": "j"}} if n < 5 else item)
    assert _gsi_query(dynamodb, "GSI", "G", "g") == []  # no GS: not in the index
    dynamodb.update_table(
        TableName="indexed",
        AttributeDefinitions=[{"AttributeName": "J", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "GSI-J",
                    "KeySchema": [{"AttributeName": "J", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )
    compared = _spy_on_candidates(monkeypatch)

    assert sorted(_gsi_query(dynamodb, "GSI-J", "J", "j")) == [f"P{n}" for n in range(5)]
    assert len(compared) == 5


def _spy_on_candidates(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many items the Queries from now on compare with the key they want."""
    compared: list[int] = []
    same = moto_dynamodb._same

    def counted(stored: Any, wanted: Any) -> bool:
        compared.append(1)
        return same(stored, wanted)

    monkeypatch.setattr(moto_dynamodb, "_same", counted)
    return compared


def test_a_gsi_query_looks_only_at_the_items_with_its_key(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _indexed_table(dynamodb, [{"G": "many" if n else "one", "GS": n} for n in range(300)])
    compared = _spy_on_candidates(monkeypatch)

    assert _gsi_query(dynamodb, "GSI", "G", "one") == ["P0"]
    assert len(compared) == 1


def test_a_count_copies_no_item_and_counts_what_a_query_returns(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _indexed_table(dynamodb, [{"G": "g", "GS": n, "odd": n % 2} for n in range(200)])
    query = {
        "TableName": "indexed",
        "IndexName": "GSI",
        "KeyConditionExpression": "G = :g AND GS < :below",
        "FilterExpression": "odd = :one",
        "ExpressionAttributeValues": {":g": {"S": "g"}, ":below": {"N": "150"}, ":one": {"N": "1"}},
    }
    returned = dynamodb.query(**query)
    copied: list[type] = []
    deepcopy = copy.deepcopy
    monkeypatch.setattr(copy, "deepcopy", lambda v, *a: copied.append(type(v)) or deepcopy(v, *a))

    counted = dynamodb.query(**query, Select="COUNT")
    copied_to_count = list(copied)
    returned_again = dynamodb.query(**query)

    assert counted["Count"] == returned["Count"] == len(returned["Items"]) == 75
    assert counted["ScannedCount"] == returned["ScannedCount"] == 150
    assert returned_again["Items"] == returned["Items"]
    assert copied_to_count == []
    assert copied.count(list) == 1  # a Query that returns its items still copies them


def test_dynamodb_results_written_as_json_are_the_documents_moto_serialises(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    compared: list[str] = []

    def both(self: Any, context: Any) -> Any:
        fast = moto_dynamodb.fast_json_result(self, context)
        slow = ActionResult.execute_result(self, context)
        operation = context.operation_model.name
        assert (operation, fast[0], json.loads(fast[2])) == (
            operation,
            slow[0],
            json.loads(slow[2]),
        )
        assert fast[1]["Content-Type"] == slow[1]["Content-Type"]
        compared.append(operation)
        return fast

    monkeypatch.setattr(DynamoResult, "execute_result", both)
    item = {
        **_key("ALL"),
        "s": {"S": 'é " <> \\ \u2028'},
        "n": {"N": "1.50"},
        "b": {"B": b"\x00\xffbinary"},
        "bs": {"BS": [b"a", b"\x01"]},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2.5"]},
        "t": {"BOOL": True},
        "z": {"NULL": True},
        "l": {"L": [{"S": "a"}, {"N": "2"}, {"M": {"k": {"B": b"\x02"}}}]},
        "m": {"M": {"inner": {"L": []}, "e": {"M": {}}}},
    }
    dynamodb.put_item(TableName=TABLE, Item=item, ReturnValues="ALL_OLD")
    dynamodb.put_item(TableName=TABLE, Item=item, ReturnValues="ALL_OLD")
    dynamodb.get_item(TableName=TABLE, Key=_key("ALL"), ReturnConsumedCapacity="TOTAL")
    dynamodb.get_item(TableName=TABLE, Key=_key("NONE"))
    dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "ALL"}},
        ReturnConsumedCapacity="INDEXES",
    )
    dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "ALL"}},
        Select="COUNT",
    )
    dynamodb.scan(TableName=TABLE, Limit=2)
    dynamodb.update_item(
        TableName=TABLE,
        Key=_key("ALL"),
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnValues="ALL_NEW",
    )
    dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": [_key("ALL"), _key("KEEP")]}})
    dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": _key("ALL")}}])
    dynamodb.transact_write_items(TransactItems=_actions("n = :three"))
    dynamodb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": _key("BATCH")}}]})
    dynamodb.delete_item(TableName=TABLE, Key=_key("ALL"), ReturnValues="ALL_OLD")

    assert set(compared) == moto_dynamodb.FAST_JSON


def test_moto_s_modules_are_listed_once_not_for_every_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    from moto import backends

    assert moto_patch.apply()
    listed = list(backends.list_of_moto_modules.__wrapped__())  # type: ignore[attr-defined]

    def no_listing(path: str) -> list[str]:
        raise AssertionError(f"listed {path} again")

    monkeypatch.setattr(os, "listdir", no_listing)

    assert list(backends.list_of_moto_modules()) == listed
    assert {"dynamodb", "sqs", "sesv2", "s3"} <= set(listed)


def test_a_receive_still_drops_messages_past_their_queue_s_retention(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.sqs.models import Queue, sqs_backends

    _aws_environment(monkeypatch)
    assert moto_patch.apply()
    with mock_aws():
        sqs = boto3.client("sqs")
        fresh, stale = (
            sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": "60"})[
                "QueueUrl"
            ]
            for name in ("fresh", "stale")
        )
        sqs.send_message(QueueUrl=fresh, MessageBody="new")
        sqs.send_message(QueueUrl=stale, MessageBody="old")
        queues = sqs_backends["123456789012"]["eu-west-1"].queues
        queues["stale"]._messages[0].sent_timestamp -= 61_000  # sent 61 s ago (ms)
        monkeypatch.setattr(  # what made each receive walk the queue
            Queue, "attributes", property(lambda _: pytest.fail("computed every attribute"))
        )

        received = sqs.receive_message(QueueUrl=fresh, MaxNumberOfMessages=10)
        expired = sqs.receive_message(QueueUrl=stale, MaxNumberOfMessages=10)

    assert [message["Body"] for message in received["Messages"]] == ["new"]
    assert "Messages" not in expired


def test_queue_attributes_are_moto_s_and_a_send_reads_only_the_one_it_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.sqs.models import Queue, sqs_backends

    _aws_environment(monkeypatch)
    assert moto_patch.apply()
    computed = moto_patch._original("moto.sqs.models:Queue.attributes")
    with mock_aws():
        sqs = boto3.client("sqs")
        dead = sqs.create_queue(QueueName="dead")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])
        redrive = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": 3}
        kinds: dict[str, dict[str, str]] = {
            "plain": {},
            "kinds.fifo": {"FifoQueue": "true", "ContentBasedDeduplication": "true"},
            "encrypted": {"KmsMasterKeyId": "alias/kbs", "DelaySeconds": "5"},
            "redriven": {"RedrivePolicy": json.dumps(redrive), "Policy": json.dumps({"a": 1})},
        }
        urls = {
            name: sqs.create_queue(QueueName=name, Attributes=a)["QueueUrl"]
            for name, a in kinds.items()
        }
        sqs.send_message(QueueUrl=urls["plain"], MessageBody="one")
        queues = sqs_backends["123456789012"]["eu-west-1"].queues
        for name in kinds:
            attributes = queues[name].attributes
            assert list(attributes.items()) == list(computed(queues[name]).items())
            assert "Nope" not in attributes and attributes.get("Nope") is None
        whole = sqs.get_queue_attributes(QueueUrl=urls["redriven"], AttributeNames=["All"])
        assert json.loads(whole["Attributes"]["RedrivePolicy"]) == redrive
        for count in ("messages", "messages_delayed", "messages_not_visible"):
            monkeypatch.setattr(  # what made every send walk the queue
                Queue,
                f"approximate_number_of_{count}",
                property(lambda _: pytest.fail("counted the queue's messages")),
            )

        sqs.send_message(QueueUrl=urls["plain"], MessageBody="two")
        sqs.send_message(QueueUrl=urls["kinds.fifo"], MessageBody="three", MessageGroupId="g")

    assert [m.body for m in queues["plain"]._messages] == ["one", "two"]
    assert queues["kinds.fifo"]._messages[0].deduplication_id  # content-based, as before


def test_an_input_transformer_s_paths_are_parsed_once_and_give_the_same_input() -> None:
    import jsonpath_ng.ext
    from moto.events.utils import EventTemplateParser

    from kbs.local.server import WHOLE_EVENT

    event = {
        "version": "0",
        "id": "1",
        "detail-type": "Registration Submitted",
        "source": "kbs.registrations",
        "account": "123456789012",
        "time": "2026-12-01T09:00:00Z",
        "region": "eu-west-1",
        "resources": ["arn:x"],
        "detail": {"data": {"name": "Zoë"}, "n": 1},
        "ingestion-time": "2026-12-01T09:00:00Z",
    }
    assert moto_patch.apply()
    uncached = jsonpath_ng.ext.parse.__wrapped__  # type: ignore[attr-defined]
    expected = {
        path: uncached(path).find(event)[0].value for path in WHOLE_EVENT["InputPathsMap"].values()
    }

    first = EventTemplateParser.parse(
        WHOLE_EVENT["InputTemplate"], WHOLE_EVENT["InputPathsMap"], event
    )
    again = EventTemplateParser.parse(
        WHOLE_EVENT["InputTemplate"], WHOLE_EVENT["InputPathsMap"], event
    )

    assert first == again
    assert first["detail"] == event["detail"] and first["account"] == event["account"]
    assert jsonpath_ng.ext.parse("$.detail") is jsonpath_ng.ext.parse("$.detail")
    assert {path: jsonpath_ng.ext.parse(path).find(event)[0].value for path in expected} == expected
