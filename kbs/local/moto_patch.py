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
   (about 400 ms at 10,000 items, for every Query, GSI or not), then sorts the matches again
   by the keys it returns them in. Inside ``query``, ``all_items`` skips that first sort (the
   second one fixes the order: its sort keys include the table's primary key).
3. ``BaseModel.__new__`` appends every model instance moto ever makes (each item written,
   each item a Query returns, each table copy above, each message) to a class-level
   ``instances_tracked`` list that is never pruned; it only feeds ``/moto-api/data.json``,
   which the local stack reads for SES only (tests check erasures there). Tracking is turned
   off for every other service: one ``kbs serve`` grew from 176 MB to 7.5 GB through these
   lists and the copies above.

Each patch is pinned to the source it was written for (:data:`PINNED`: SHA-256 of
``inspect.getsource`` in moto 5.2.5). If moto changes a patched function, :func:`apply`
leaves moto alone with a warning (correct, slow), and ``tests/unit/test_moto_patch.py`` fails
until the patch is reviewed. Only the local stack applies it; Lambda code never imports it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib
import inspect
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
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
}
"""``module:Class.function`` -> SHA-256 of its source in moto 5.2.5."""

_WRITES = ("Put", "Update", "Delete")
_TRACKED = ("moto.ses.", "moto.sesv2.")
_state = threading.local()  # .transaction, .query: inside a patched call on this thread


def _original(target: str) -> Any:
    module, _, path = target.partition(":")
    owner_name, _, name = path.partition(".")
    function = vars(getattr(importlib.import_module(module), owner_name))[name]
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
    Table.query = _flagged("query", Table.query)  # type: ignore[method-assign]
    Table.all_items = _unsorted_in_query(Table.all_items)  # type: ignore[method-assign,assignment]
    original_new = _original("moto.core.common_models:BaseModel.__new__")
    _untracked_new.__wrapped__ = original_new  # type: ignore[attr-defined]
    BaseModel.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]
    return True


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``BaseModel.__new__``, appending to ``cls.instances_tracked`` for SES only (its sent
    mail, which its backend keeps anyway, is what ``/moto-api/data.json`` is read for)."""
    instance: Any = object.__new__(cls)
    if cls.__module__.startswith(_TRACKED):
        cls.instances_tracked.append(instance)  # type: ignore[attr-defined]
    return instance


def _flagged(flag: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        setattr(_state, flag, True)
        try:
            return method(*args, **kwargs)
        finally:
            setattr(_state, flag, False)

    return call


def _unsorted_in_query(all_items: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
    @functools.wraps(all_items)
    def patched(self: Any) -> list[Any]:
        if not getattr(_state, "query", False):
            return all_items(self)
        if self.range_key_attr:
            return [item for hash_set in self.items.values() for item in hash_set.values()]
        return list(self.items.values())

    return patched


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
