"""schemathesis against ``kbs serve`` with the committed ``openapi.json``: for every operation,
bounded and derandomized examples (valid and invalid), then no 5xx, every status documented for
its operation, and every documented JSON body and content type as the document says."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi import checks as openapi_checks

from infra import wiring
from kbs.openapi import DOCUMENT
from tests.e2e.support import Served

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

EXAMPLES = 25
"""Per operation and generation mode: 18 operations x 2 modes x 25 = 900 requests at most."""
FIXED = {"GET /", "GET /sessions", "GET /sessions.ics"}
# Any text is a certificate number or a feed token the document accepts (unknown ones are 404):
# schemathesis's negative mode has nothing to vary there, so only the positive examples count.
POSITIVE_ONLY = {"GET /certificates/{number}", "GET /calendar/{token}"}
ROUTES = [route for fn in wiring.FUNCTIONS for route in fn.of_kind(wiring.HttpRoute)]
"""Operations with no parameter or body: one distinct request each."""
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


def _exchanges(
    operation: APIOperation, mode: GenerationMode, base_url: str, statuses: Counter[int]
) -> None:
    """Up to :data:`EXAMPLES` requests of ``operation`` in ``mode``, each checked; their
    statuses counted in ``statuses``."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def exchange(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, timeout=30)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        exchange()
    except Unsatisfiable:  # no parameter or body to make invalid (GET /, GET /sessions)
        if mode is not GenerationMode.NEGATIVE:
            raise


def test_the_local_stack_answers_as_the_document_says(stack: Served) -> None:
    schema = schemathesis.openapi.from_path(DOCUMENT)
    operations = [result.ok() for result in schema.get_all_operations()]
    seen: dict[str, Counter[int]] = {}

    for operation in operations:
        statuses: Counter[int] = seen.setdefault(operation.label, Counter())
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _exchanges(operation, mode, stack.api_url, statuses)

    report = {label: dict(sorted(counts.items())) for label, counts in seen.items()}
    total = sum(counts.total() for counts in seen.values())
    print(f"schemathesis: {len(operations)} operations, {total} requests")
    for label, counts in report.items():
        print(f"  {label}: {counts}")
    assert len(operations) == len(ROUTES)  # every public route of the wiring was tried
    for label, counts in seen.items():  # hypothesis stops early only when nothing can vary
        least = 1 if label in FIXED else EXAMPLES if label in POSITIVE_ONLY else 2 * EXAMPLES
        assert sum(counts.values()) >= least, (label, counts)
    assert not any(status >= 500 for counts in seen.values() for status in counts), report
