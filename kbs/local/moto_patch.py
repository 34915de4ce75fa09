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
   :data:`~kbs.local.moto_dynamodb.FAST_JSON` the patch writes them with :func:`json.dumps`
   (bytes as base64, datetimes as epoch seconds, as moto's JSON serializer does);
   ``tests/unit/test_moto_patch.py`` checks it gives the same document as moto's serializer.

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

8. A Query of a GSI still walked every item of the table after patch 2 (a GSI's partition key
   is an attribute, not the key moto files items under): with 14,000 items, half of moto's
   CPU while ``POST /registrations`` ran after the soak (each waiting-list email counts the
   entries ahead through GSI2). Each table now keeps its items by the value of every GSI
   partition-key attribute (:class:`~kbs.local.moto_dynamodb.GsiBuckets`), built on the first
   GSI Query and re-filed on every write: ``Table.put_item``, ``Table.delete_item``,
   ``DynamoDBBackend.update_item`` (which changes the stored item in place) and patch 1's
   restore. moto's comparison and sort then run on that bucket only.

9. ``Queue.attributes`` computes every attribute of the queue, each approximate count walking
   every message (reading the clock for each); ``SQSBackend.send_message`` reads it for
   ``ContentBasedDeduplication`` on every message sent, so while a queue had a backlog (the
   soak leaves a few hundred registrations to process) every event routed to it cost more.
   It is now a read-only mapping that computes an attribute when it is read
   (:class:`QueueAttributes`): same keys, order and values.

10. ``Table.query`` deep-copies every item it found before it returns them, also for a
    ``Select=COUNT`` Query, which returns none of them: counting a waiting list of 1,700
    entries (the place in line each waiting-list email gives) copied all 1,700, a fifth of
    moto's CPU after the soak. Inside a count (``DynamoHandler.query`` with ``Select=COUNT``)
    that copy is the list itself; nothing of it is returned or changed.

The DynamoDB patches (1, 2, 4, 8, 10) are in :mod:`kbs.local.moto_dynamodb`.

Each patch is pinned to the source it was written for (:data:`PINNED`: SHA-256 of
``inspect.getsource`` in moto 5.2.5). If moto changes a patched function, :func:`apply`
leaves moto alone with a warning (correct, slow), and ``tests/unit/test_moto_patch.py`` fails
until the patch is reviewed. Only the local stack applies it; Lambda code never imports it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import json
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from kbs.local import moto_dynamodb

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
    "moto.dynamodb.responses:DynamoHandler.query": (
        "681834c64038af93f0bf17657b7d24065f907f31e2d5cafb67f8cc15bb5e9f96"
    ),
    "moto.sqs.models:Queue.attributes": (
        "40cb990b121628d535cecbcd0e0d333984024633b70a097489ae8611e1a59338"
    ),
    "moto.dynamodb.models.table:Table.put_item": (
        "de23933013ef842639046c19bcf7e418bce0474d810f6719368be4cedce11d47"
    ),
    "moto.dynamodb.models.table:Table.delete_item": (
        "1594f7b07616c8cb8cdf0fbf58d6f54eeac83f25d7ac7b14e832a08e10efd8f9"
    ),
    "moto.dynamodb.models:DynamoDBBackend.update_item": (
        "218984588dd689a5de81678ce11e6a40d05c91e7b6c21b44c4ed4122fe74aa9f"
    ),
}
"""``module:Class.function`` -> SHA-256 of its source in moto 5.2.5."""

_TRACKED = ("moto.ses.", "moto.sesv2.")


def _original(target: str) -> Any:
    module, _, path = target.partition(":")
    owner_name, _, name = path.partition(".")
    owner = getattr(importlib.import_module(module), owner_name)
    function = vars(owner)[name] if name else owner  # a method, or a module's function
    function = getattr(function, "__func__", function)  # staticmethod (__new__)
    function = getattr(function, "fget", function)  # a property
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
    moto_dynamodb.apply()
    import jsonpath_ng.ext
    from moto import backends
    from moto.sqs.models import Queue, SQSBackend

    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=1024)(jsonpath_ng.ext.parse)

    original_attributes = _original("moto.sqs.models:Queue.attributes")
    attributes = functools.wraps(original_attributes)(lambda queue: QueueAttributes(queue))
    Queue.attributes = property(attributes)  # type: ignore[method-assign,assignment]
    retained = functools.wraps(SQSBackend.is_message_valid_based_on_retention_period)(_retained)
    SQSBackend.is_message_valid_based_on_retention_period = retained  # type: ignore[method-assign]
    listed = tuple(backends.list_of_moto_modules())
    modules = functools.wraps(backends.list_of_moto_modules)(lambda: iter(listed))
    backends.list_of_moto_modules = modules

    original_new = _original("moto.core.common_models:BaseModel.__new__")
    _untracked_new.__wrapped__ = original_new  # type: ignore[attr-defined]
    BaseModel.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]
    return True


class QueueAttributes(Mapping[str, Any]):
    """``Queue.attributes`` (patch 9): a queue's attributes by name, each computed when read;
    the names, their order and the values (booleans as ``"true"``/``"false"``) are moto's."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += queue.KMS_ATTRIBUTES
        names += [name for name in ("Policy", "RedrivePolicy") if self._set(name)]
        self._names = tuple(dict.fromkeys(names))

    def _set(self, name: str) -> Any:
        return self._queue.policy if name == "Policy" else self._queue.redrive_policy

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        if name == "RedrivePolicy" and self._set(name):
            return json.dumps(self._queue.redrive_policy)
        from moto.core.utils import camelcase_to_underscores

        value = getattr(self._queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _retained(self: Any, queue_name: str, message: Any) -> bool:
    """Whether ``message`` is within its queue's retention period (moto's test, patch 6)."""
    from moto.core.utils import unix_time

    retention_period = self.get_queue(queue_name).message_retention_period
    return bool(retention_period + message.sent_timestamp / 1000 > unix_time())


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``BaseModel.__new__``, appending to ``cls.instances_tracked`` for SES only (its sent
    mail, which its backend keeps anyway, is what ``/moto-api/data.json`` is read for)."""
    instance: Any = object.__new__(cls)
    if cls.__module__.startswith(_TRACKED):
        cls.instances_tracked.append(instance)  # type: ignore[attr-defined]
    return instance
