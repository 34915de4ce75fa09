"""Fixtures: the real local stack (``kbs serve`` in a subprocess) and an in-process one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.wiring import Function
from kbs.local.clock import Clock
from kbs.local.delivery import DeliveryPolicy
from kbs.local.server import LocalStack
from tests.e2e import handlers
from tests.e2e.support import Served, serve


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Served]:
    """``kbs serve --port 0`` on the real declaration, data dir in ``tmp_path``."""
    served = serve(tmp_path / "data")
    yield served
    served.stop()


StartInProcess = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartInProcess]:
    """Start a :class:`LocalStack` in this process on test-only wiring, for the module.

    For what the real declaration cannot show yet (schedules, failing records, odd responses).
    """
    stacks: list[LocalStack] = []
    tmp_path = tmp_path_factory.mktemp("in-process")

    def start(
        *functions: Function, clock: Clock | None = None, delivery: DeliveryPolicy | None = None
    ) -> dict[str, Any]:
        local = LocalStack(
            tmp_path / str(len(stacks)),
            port=0,
            clock=clock,
            functions=functions,
            delivery=delivery,
        )
        stacks.append(local)
        return local.start()

    yield start
    for local in stacks:
        local.stop()


@pytest.fixture(autouse=True)
def _forget_received() -> None:
    """Each test sees only what the test-only handlers received during it."""
    handlers.RECEIVED.clear()
