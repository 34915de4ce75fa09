"""Emulator-only patch of moto 5.2.5's DynamoDB ``TransactWriteItems``: roll back items, not tables.

moto's ``DynamoDBBackend.transact_write_items`` deep-copies every table the transaction names,
once per action, before it writes anything, so that it can put the copies back if an action
fails. The cost grows with the table (1.5 ms empty, 50 ms at 2,000 items, 474 ms at 20,000 on
this kind of machine), and each copy's items stay referenced by moto's
``BaseModel.instances_tracked`` lists (kept for ``/moto-api/data.json``) for the life of the
process: one ``kbs serve`` grew to 7.5 GB that way.

:func:`apply` wraps that method: before it runs, the wrapper keeps a copy of each item the
transaction writes (at most 100, as AWS allows), and while it runs moto's own table copy
returns the live table (so moto's own "rollback" puts back what is already there); if the
transaction fails, the wrapper puts those items back as they were (and drops the stream
records the aborted writes added). moto's logic (validation, conditions, cancellation
reasons) is otherwise untouched.

The patch is pinned to the source it was written for: :data:`PATCHED_SOURCE_SHA256` is the
SHA-256 of ``inspect.getsource`` of moto 5.2.5's method. If moto changes it, :func:`apply`
leaves moto alone (correct, slow) with a warning, and ``tests/unit/test_moto_patch.py`` fails
until the patch is reviewed. Only the local stack applies it; Lambda code never imports it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PATCHED_SOURCE_SHA256 = "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4"
"""SHA-256 of ``inspect.getsource(DynamoDBBackend.transact_write_items)`` in moto 5.2.5."""

_WRITES = ("Put", "Update", "Delete")
_in_transaction = threading.local()


def source_digest() -> str:
    """SHA-256 (hex) of the installed moto's ``transact_write_items`` source."""
    from moto.dynamodb.models import DynamoDBBackend

    method = getattr(DynamoDBBackend.transact_write_items, "__wrapped__", None)
    source = inspect.getsource(method or DynamoDBBackend.transact_write_items)
    return hashlib.sha256(source.encode()).hexdigest()


def apply() -> bool:
    """Patch moto (idempotent); False, with a warning, if its code is not the one pinned."""
    import moto.dynamodb.models as models

    current = models.DynamoDBBackend.transact_write_items
    if getattr(current, "__wrapped__", None) is not None:
        return True
    if source_digest() != PATCHED_SOURCE_SHA256:
        warnings.warn(
            "moto's DynamoDB transact_write_items is not the code kbs/local/moto_patch.py was "
            "written for: left unpatched (each transaction copies whole tables)",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    models.copy = _TableCopyShim(models.Table)  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = _item_rollback(current)  # type: ignore[method-assign]
    return True


class _TableCopyShim:
    """``copy`` as moto's DynamoDB module sees it: inside a patched transaction, a deep copy of
    a table is the table itself (the wrapper restores items instead); otherwise the real one."""

    def __init__(self, table_class: type) -> None:
        self._table_class = table_class

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if getattr(_in_transaction, "active", False) and isinstance(value, self._table_class):
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
        _in_transaction.active = True
        try:
            original(self, transact_items)
        except BaseException:
            for entry in reversed(saved):
                entry.restore()
            for shard, length in streams:
                del shard.items[length:]
            raise
        finally:
            _in_transaction.active = False

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
