"""The DynamoDB half of :mod:`kbs.local.moto_patch`: transactions that copy the items they
write (patch 1), Queries that look only at the items that can match (patches 2 and 8),
counts that copy nothing (patch 10), and results written with :func:`json.dumps` (patch 4).
The patch numbers are the module doc's of :mod:`kbs.local.moto_patch`, which applies them.
"""

from __future__ import annotations

import base64
import calendar
import copy
import functools
import inspect
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_WRITES = ("Put", "Update", "Delete")
# DynamoDB operations whose results are written with json.dumps (patch 4).
FAST_JSON = frozenset(
    {
        "BatchGetItem",
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "UpdateItem",
    }
)
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
_EXACT = ("S", "B")  # key types whose stored value is the value compared
_state = threading.local()  # .transaction, .query, .count: in a patched call on this thread


def apply() -> None:
    """Patch moto's DynamoDB (once; :func:`kbs.local.moto_patch.apply` checks the pins)."""
    from moto.dynamodb import models
    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    models.copy = table_module.copy = _CopyShim(Table)  # type: ignore[assignment]
    DynamoHandler.query = _counted_query(DynamoHandler.query)  # type: ignore[method-assign]
    transact = _item_rollback(models.DynamoDBBackend.transact_write_items)
    models.DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
    models.DynamoDBBackend.update_item = _reindexed_update(  # type: ignore[method-assign]
        models.DynamoDBBackend.update_item
    )
    Table.put_item = _reindexed_put(Table.put_item)  # type: ignore[method-assign]
    Table.delete_item = _reindexed_delete(Table.delete_item)  # type: ignore[method-assign]
    Table.query = _narrowed_query(Table.query)  # type: ignore[method-assign]
    Table.all_items = _narrowed_all_items(Table.all_items)  # type: ignore[method-assign,assignment]
    DynamoResult.execute_result = fast_json_result  # type: ignore[method-assign]


def fast_json_result(self: Any, context: Any) -> tuple[int, dict[str, str], str]:
    """``DynamoResult.execute_result``: the result as JSON for the operations of
    :data:`FAST_JSON`, moto's own serializer for any other."""
    from moto.core.responses import ActionResult

    if context.operation_model.name not in FAST_JSON:
        return ActionResult.execute_result(self, context)  # type: ignore[return-value]
    members = context.operation_model.output_shape.members  # moto drops any other key
    result = {key: value for key, value in self.result.items() if key in members}
    body = json.dumps(result, default=_json_value, separators=(",", ":"))
    return 200, {"Content-Type": JSON_CONTENT_TYPE}, body


def _json_value(value: Any) -> Any:
    """What moto's JSON serializer writes for the values ``json`` cannot."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return calendar.timegm(value.timetuple()) + value.microsecond // 1000 / 1000
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class GsiBuckets:
    """One table's items by the value of each attribute that is a GSI's partition key (patch 8).

    ``buckets[attribute][(type, value)]`` maps an item's primary key (hash, range) to the item,
    for string and binary values (their stored form is the value compared). It is built from
    the table on the first GSI Query, then kept current by :meth:`refresh`, which every write
    path calls with the primary key it wrote: a put, a delete, an update (moto updates an item
    in place) and a cancelled transaction's restore. It is rebuilt when the table's GSIs change.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        self.attributes = self.partition_keys(table)
        self.buckets: dict[str, dict[tuple[str, Any], dict[Any, Any]]] = {
            name: {} for name in self.attributes
        }
        self.placed: dict[Any, list[tuple[str, tuple[str, Any]]]] = {}
        for item in _stored(table):
            self._place((item.hash_key, item.range_key), item)

    @staticmethod
    def partition_keys(table: Any) -> frozenset[str]:
        """The attributes that are a partition (HASH) key of one of ``table``'s GSIs."""
        return frozenset(
            key["AttributeName"]
            for index in table.global_indexes
            for key in index.schema
            if key["KeyType"] == "HASH"
        )

    @classmethod
    def of(cls, table: Any) -> GsiBuckets:
        """``table``'s buckets, built now if it has none or its GSIs changed since."""
        buckets: GsiBuckets | None = vars(table).get("_kbs_gsi_buckets")
        if buckets is None or buckets.attributes != cls.partition_keys(table):
            buckets = cls(table)
            table._kbs_gsi_buckets = buckets
        return buckets

    def candidates(self, name: str, value: Any) -> list[Any]:
        """The items whose ``name`` attribute is ``value`` (a string or binary DynamoType)."""
        return list(self.buckets[name].get((value.type, value.value), {}).values())

    def refresh(self, hash_key: Any, range_key: Any) -> None:
        """Re-file the item stored under this primary key (or forget it, if there is none)."""
        primary = (hash_key, range_key)
        for name, value in self.placed.pop(primary, ()):
            bucket = self.buckets[name][value]
            bucket.pop(primary, None)
            if not bucket:
                del self.buckets[name][value]
        stored = self.table.items.get(hash_key)
        if stored is not None and self.table.range_key_attr:
            stored = stored.get(range_key)
        if stored is not None:
            self._place(primary, stored)

    def _place(self, primary: Any, item: Any) -> None:
        placed = []
        for name in self.attributes:
            attribute = item.attrs.get(name)
            if attribute is not None and attribute.type in _EXACT:
                value = (attribute.type, attribute.value)
                self.buckets[name].setdefault(value, {})[primary] = item
                placed.append((name, value))
        if placed:
            self.placed[primary] = placed


def _stored(table: Any) -> Iterable[Any]:
    """Every item of ``table``, unsorted (moto's ``all_items`` sorts them)."""
    if table.range_key_attr:
        return [item for hash_set in table.items.values() for item in hash_set.values()]
    return list(table.items.values())


def _refresh(table: Any, hash_key: Any, range_key: Any) -> None:
    """Tell ``table``'s GSI buckets, if it has any yet, that this item was written."""
    buckets: GsiBuckets | None = vars(table).get("_kbs_gsi_buckets")
    if buckets is not None:
        buckets.refresh(hash_key, range_key)


def _reindexed_put(put_item: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(put_item)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = put_item(self, *args, **kwargs)
        _refresh(self, item.hash_key, item.range_key)
        return item

    return patched


def _reindexed_delete(delete_item: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(delete_item)
    def patched(self: Any, hash_key: Any, range_key: Any) -> Any:
        try:
            return delete_item(self, hash_key, range_key)
        finally:
            _refresh(self, hash_key, range_key)

    return patched


def _reindexed_update(update_item: Callable[..., Any]) -> Callable[..., Any]:
    """``DynamoDBBackend.update_item``, which changes the stored item in place, then re-files it
    (also when it raises part-way: whatever it changed is what is stored)."""
    signature = inspect.signature(update_item)

    @functools.wraps(update_item)
    def patched(*args: Any, **kwargs: Any) -> Any:
        given = signature.bind(*args, **kwargs).arguments
        try:
            return update_item(*args, **kwargs)
        finally:
            backend = given["self"]
            try:
                table = backend.get_table(given["table_name"])
                hash_key, range_key = backend.get_keys_value(table, given["key"])
            except Exception:  # noqa: S110 (moto refused the table or key: nothing written)
                pass
            else:
                _refresh(table, hash_key, range_key)

    return patched


def _narrowed_query(query: Callable[..., Any]) -> Callable[..., Any]:
    """``Table.query`` that tells ``all_items`` (on this thread) which hash key it wants."""
    signature = inspect.signature(query)

    @functools.wraps(query)
    def patched(*args: Any, **kwargs: Any) -> Any:
        given = signature.bind(*args, **kwargs).arguments
        if given.get("index_name"):
            wanted = [(name, value) for name, value in given.get("hash_key_conditions") or []]
        else:
            hash_key = given.get("hash_key")
            wanted = [(None, hash_key)] if hash_key is not None else []
        _state.query = [(name, value) for name, value in wanted if value.type in _EXACT]
        try:
            return query(*args, **kwargs)
        finally:
            _state.query = None

    return patched


def _narrowed_all_items(all_items: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
    """Inside a Query: the items that can match its hash key, unsorted (see module doc).

    Only string and binary keys narrow the search: their stored form is their value, so
    comparing it selects exactly the items moto's own comparison would keep. A GSI's
    partition key is looked up in the table's :class:`GsiBuckets`; any other key attribute
    (an LSI's, a multi-attribute key's others) filters those candidates or the whole table.
    """

    @functools.wraps(all_items)
    def patched(self: Any) -> list[Any]:
        wanted = getattr(_state, "query", None)
        if wanted is None:
            return all_items(self)
        if wanted and wanted[0][0] in (None, self.hash_key_attr):  # the table's own hash key
            found = self.items.get(wanted[0][1])
            if found is None:
                return []
            items = list(found.values()) if self.range_key_attr else [found]
            wanted = wanted[1:]
        else:
            indexed = GsiBuckets.of(self)
            first = next((pair for pair in wanted if pair[0] in indexed.attributes), None)
            items = indexed.candidates(*first) if first else list(_stored(self))
        for name, value in wanted:
            items = [item for item in items if _same(item.attrs.get(name), value)]
        return items

    return patched


def _same(stored: Any, wanted: Any) -> bool:
    return stored is not None and stored.type == wanted.type and stored.value == wanted.value


class _CopyShim:
    """``copy`` as moto's DynamoDB models see it. Inside a patched transaction, a deep copy of
    a table is the table itself (the wrapper restores items instead: patch 1). Inside a
    ``Select=COUNT`` Query, the copy of its results is the list itself: moto copies them so
    that what it returns cannot change the table, but a count returns none of them (patch 10).
    Otherwise it is the real :func:`copy.deepcopy`."""

    def __init__(self, table_class: type) -> None:
        self._table_class = table_class

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if getattr(_state, "transaction", False) and isinstance(value, self._table_class):
            return value
        if getattr(_state, "count", False) and isinstance(value, list):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _counted_query(query: Callable[..., Any]) -> Callable[..., Any]:
    """``DynamoHandler.query`` that tells the models (on this thread) when it only counts."""

    @functools.wraps(query)
    def patched(self: Any) -> Any:
        _state.count = self.body.get("Select") == "COUNT"
        try:
            return query(self)
        finally:
            _state.count = False

    return patched


@dataclass
class _Saved:
    """An item as it was before the transaction (``None``: there was none)."""

    table: Any
    hash_key: Any
    range_key: Any
    item: Any

    def restore(self) -> None:
        items = self.table.items
        if self.range_key is None:
            if self.item is None:
                items.pop(self.hash_key, None)
            else:
                items[self.hash_key] = self.item
        elif self.item is None:
            items.get(self.hash_key, {}).pop(self.range_key, None)
            if not items.get(self.hash_key, True):
                items.pop(self.hash_key, None)
        else:
            items[self.hash_key][self.range_key] = self.item
        _refresh(self.table, self.hash_key, self.range_key)


def _item_rollback(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved, streams = _snapshot(self, transact_items)
        _state.transaction = True
        try:
            original(self, transact_items)
        except BaseException:
            for entry in reversed(saved):
                entry.restore()
            for shard, length in streams:
                del shard.items[length:]
            raise
        finally:
            _state.transaction = False

    return transact_write_items


def _snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> tuple[list[_Saved], list[Any]]:
    """Copies of the items the actions write, and each table's stream length, as they are."""
    saved: list[_Saved] = []
    seen: set[tuple[int, Any, Any]] = set()
    streams: dict[int, tuple[Any, int]] = {}
    for action in transact_items[:100]:  # moto refuses more before writing anything
        for kind, op in action.items():
            if kind not in _WRITES or not isinstance(op, dict):
                continue
            try:
                table = backend.get_table(op["TableName"])
                key = op["Item"] if kind == "Put" else op["Key"]
                hash_key, range_key = backend.get_keys_value(table, key)
            except Exception:  # noqa: S112 (moto rejects this action before writing it)
                continue
            if (id(table), hash_key, range_key) in seen:
                continue  # moto cancels a transaction naming one item twice
            seen.add((id(table), hash_key, range_key))
            item = table.get_item(hash_key, range_key)
            saved.append(_Saved(table, hash_key, range_key, copy.deepcopy(item)))
            if table.stream_shard is not None:
                streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
    return saved, list(streams.values())
