"""Emulator-only patches of moto 5.2.5 whose cost grew with the table or with time.

1. ``DynamoDBBackend.transact_write_items`` deep-copies every table the transaction names, once
   per action, before it writes anything, so that it can put the copies back if an action
   fails: 1.5 ms on an empty table, 50 ms at 2,000 items, 474 ms at 20,000, for every booking.
   The wrapper instead keeps a copy of each item the transaction writes (at most 100); while
   moto's method runs, its table copy returns the live table (so moto's own "rollback" puts
   back what is already there); if the transaction fails, the wrapper puts those items back
   as they were (and drops the stream records the aborted writes added). moto's logic
   (validation, conditions, cancellation reasons) is otherwise untouched.
2. ``Table.query`` starts from ``Table.all_items()``, which sorts the whole table by its keys
   (about 400 ms at 10,000 items, for every Query, GSI or not), then compares every item with
   the hash key wanted, then sorts the matches by the keys it returns them in. Inside
   ``query``, ``all_items`` returns only the items that can match, unsorted: a dict lookup
   for the table's hash key, a plain comparison of a GSI's (string or binary) hash keys.
   moto's own comparison and sort still run on them (the sort fixes the order: its keys
   include the table's primary key).
3. ``BaseModel.__new__`` appends every model instance moto ever makes (each item written,
   each item a Query returns, each table copy above, each message) to a class-level
   ``instances_tracked`` list that is never pruned; it only feeds ``/moto-api/data.json``,
   which the local stack reads for SES only (tests check erasures there). Tracking is turned
   off for every other service: one ``kbs serve`` grew from 176 MB to 7.5 GB through these
   lists and the copies above.

4. ``ActionResult.execute_result`` serialises every response by walking botocore's output
   shape, attribute by attribute (``AttributePicker``, aliases, per-value type dispatch): for
   a DynamoDB result carrying items (a Query of the programme, a GetItem), about half of the
   CPU moto spent on ``POST /registrations``. Those results are already in DynamoDB's wire
   form (:func:`moto.dynamodb.models.utilities.dynamo_to_dict`), so for the operations in
   :data:`_FAST_JSON` the patch writes them with :func:`json.dumps` (bytes as base64,
   datetimes as epoch seconds, as moto's JSON serializer does); ``tests/unit/test_moto_patch.py``
   checks it gives the same document as moto's serializer.

5. ``moto.backends.list_of_moto_modules`` lists moto's package directory and ``stat``s each
   of its ~150 entries; moto's server calls it for every request (to tell a service's name
   from a host name): it is listed once now (the installed package does not change).

6. ``SQSBackend.is_message_valid_based_on_retention_period``, called for every message a
   ReceiveMessage returns, reads the queue's retention period through ``get_queue_attributes``,
   which computes every attribute, each approximate count walking every message of the queue,
   twice: a receive cost grew with the queue's length. It reads the one attribute now.

7. ``EventTemplateParser.parse`` (a rule target's ``InputTransformer``: the local stack's
   :data:`~kbs.local.server.WHOLE_EVENT`) parses each of its 8 JSONPaths anew for every event
   routed, and ``jsonpath_ng`` builds a new parser (``ply`` tables) each time: 3.3 ms an
   event. ``jsonpath_ng.ext.parse`` is cached now (a parsed path is an immutable tree; the
   same path string gives the same tree): 0.2 ms.

Each patch is pinned to the source it was written for (:data:`PINNED`: SHA-256 of
``inspect.getsource`` in moto 5.2.5). If moto changes a patched function, :func:`apply`
leaves moto alone with a warning (correct, slow), and ``tests/unit/test_moto_patch.py`` fails
until the patch is reviewed. Only the local stack applies it; Lambda code never imports it.
"""

from __future__ import annotations

import base64
import calendar
import copy
import functools
import hashlib
import importlib
import inspect
import json
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

PINNED = {
    "moto.dynamodb.models:DynamoDBBackend.transact_write_items": (
        "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4"
    ),
    "moto.dynamodb.models.table:Table.query": (
        "002b4d00be6df07cf37f6cbe0132e5eb89455ae12a8e79b23db3fb492450f21e"
    ),
    "moto.dynamodb.models.table:Table.all_items": (
        "c80d2ee3c896acd0cab6ca35aaeae3ab3fb65858933f8a3403d4e027c240f31d"
    ),
    "moto.core.common_models:BaseModel.__new__": (
        "08cf0ef20e88029a2eb91949492ce3281001a34b98143db186239962ad379eec"
    ),
    "moto.backends:list_of_moto_modules": (
        "4f741a10b06500e840c3aaa1b4f02706e6f2bfbababc0e8a2a7b9c9d0e8957dc"
    ),
    "moto.sqs.models:SQSBackend.is_message_valid_based_on_retention_period": (
        "cca23b94a5f3af9d9c5af1c09ee5e615017bdf6bd032301cb321c06c7e595d4b"
    ),
    "moto.events.utils:EventTemplateParser.parse": (
        "40a5a46a321811bb2643aaabb7b45c37f75644fcce9cb95524e729a43f0d97d7"
    ),
    "moto.core.responses:ActionResult.execute_result": (
        "6333faa349b58671258985778d2aaf02d31e0617aae380442e4c683c36ab248d"
    ),
}
"""``module:Class.function`` -> SHA-256 of its source in moto 5.2.5."""

_WRITES = ("Put", "Update", "Delete")
# DynamoDB operations whose results are written with json.dumps (patch 4).
_FAST_JSON = frozenset(
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
_TRACKED = ("moto.ses.", "moto.sesv2.")
_EXACT = ("S", "B")  # key types whose stored value is the value compared
_state = threading.local()  # .transaction, .query: inside a patched call on this thread


def _original(target: str) -> Any:
    module, _, path = target.partition(":")
    owner_name, _, name = path.partition(".")
    owner = getattr(importlib.import_module(module), owner_name)
    function = vars(owner)[name] if name else owner  # a method, or a module's function
    function = getattr(function, "__func__", function)  # staticmethod (__new__)
    return getattr(function, "__wrapped__", function)


def source_digests() -> dict[str, str]:
    """SHA-256 (hex) of the installed moto's source of each function in :data:`PINNED`."""
    return {
        target: hashlib.sha256(inspect.getsource(_original(target)).encode()).hexdigest()
        for target in PINNED
    }


def apply() -> bool:
    """Patch moto (idempotent); False, with a warning, if its code is not the code pinned."""
    from moto.core.common_models import BaseModel
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    if getattr(models.DynamoDBBackend.transact_write_items, "__wrapped__", None) is not None:
        return True
    changed = [target for target, digest in source_digests().items() if PINNED[target] != digest]
    if changed:
        warnings.warn(
            f"moto changed {', '.join(changed)}: kbs/local/moto_patch.py left moto unpatched "
            "(each transaction copies whole tables, each Query sorts the table)",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    models.copy = _TableCopyShim(Table)  # type: ignore[assignment]
    transact = _item_rollback(models.DynamoDBBackend.transact_write_items)
    models.DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
    Table.query = _narrowed_query(Table.query)  # type: ignore[method-assign]
    Table.all_items = _narrowed_all_items(Table.all_items)  # type: ignore[method-assign,assignment]
    import jsonpath_ng.ext
    from moto import backends
    from moto.dynamodb.responses import DynamoResult
    from moto.sqs.models import SQSBackend

    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=1024)(jsonpath_ng.ext.parse)

    retained = functools.wraps(SQSBackend.is_message_valid_based_on_retention_period)(_retained)
    SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]
    listed = tuple(backends.list_of_moto_modules())
    modules = functools.wraps(backends.list_of_moto_modules)(lambda: iter(listed))
    backends.list_of_moto_modules = modules

    DynamoResult.execute_result = fast_json_result  # type: ignore[method-assign]
    original_new = _original("moto.core.common_models:BaseModel.__new__")
    _untracked_new.__wrapped__ = original_new  # type: ignore[attr-defined]
    BaseModel.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]
    return True


def _retained(self: Any, queue_name: str, message: Any) -> bool:
    """Whether ``message`` is within its queue's retention period (moto's test, patch 6)."""
    from moto.core.utils import unix_time

    retention_period = self.get_queue(queue_name).message_retention_period
    return bool(retention_period + message.sent_timestamp / 1000 > unix_time())


def fast_json_result(self: Any, context: Any) -> tuple[int, dict[str, str], str]:
    """``DynamoResult.execute_result``: the result as JSON for the operations of
    :data:`_FAST_JSON`, moto's own serializer for any other."""
    from moto.core.responses import ActionResult

    if context.operation_model.name not in _FAST_JSON:
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


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``BaseModel.__new__``, appending to ``cls.instances_tracked`` for SES only (its sent
    mail, which its backend keeps anyway, is what ``/moto-api/data.json`` is read for)."""
    instance: Any = object.__new__(cls)
    if cls.__module__.startswith(_TRACKED):
        cls.instances_tracked.append(instance)  # type: ignore[attr-defined]
    return instance


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
    comparing it selects exactly the items moto's own comparison would keep.
    """

    @functools.wraps(all_items)
    def patched(self: Any) -> list[Any]:
        wanted = getattr(_state, "query", None)
        if wanted is None:
            return all_items(self)
        if wanted and wanted[0][0] is None:  # the table's own hash key: a dict lookup
            found = self.items.get(wanted[0][1])
            if found is None:
                return []
            return list(found.values()) if self.range_key_attr else [found]
        items = (
            [item for hash_set in self.items.values() for item in hash_set.values()]
            if self.range_key_attr
            else list(self.items.values())
        )
        for name, value in wanted:
            items = [item for item in items if _same(item.attrs.get(name), value)]
        return items

    return patched


def _same(stored: Any, wanted: Any) -> bool:
    return stored is not None and stored.type == wanted.type and stored.value == wanted.value


class _TableCopyShim:
    """``copy`` as moto's DynamoDB module sees it: inside a patched transaction, a deep copy of
    a table is the table itself (the wrapper restores items instead); otherwise the real one."""

    def __init__(self, table_class: type) -> None:
        self._table_class = table_class

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if getattr(_state, "transaction", False) and isinstance(value, self._table_class):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


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
            return
        if self.item is None:
            items.get(self.hash_key, {}).pop(self.range_key, None)
            if not items.get(self.hash_key, True):
                items.pop(self.hash_key, None)
        else:
            items[self.hash_key][self.range_key] = self.item


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
