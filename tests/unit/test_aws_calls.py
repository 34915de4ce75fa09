"""The call recorder of ``tests/aws_calls.py`` attributes calls to handlers and finds the ones
a function's grants (``infra.permissions``) do not cover."""

from __future__ import annotations

from typing import Any

import boto3

from infra import permissions, wiring
from tests.aws_calls import Recorder

DOWNLOADS = wiring.function("downloads")


def model(service: str, operation: str) -> Any:
    client = boto3.client(
        service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client.meta.service_model.operation_model(operation)


def call_from(module: str, recorder: Recorder, service: str, operation: str, **params: Any) -> None:
    """Make the recorder see a call from code whose module is ``module``."""
    code = "def invoke(hook, model, params):\n    hook(model=model, params=params)\n"
    scope: dict[str, Any] = {"__name__": module}
    exec(compile(code, module, "exec"), scope)  # noqa: S102 - a frame in that module
    scope["invoke"](recorder.before_call, model(service, operation), params)


def test_calls_are_attributed_to_the_handler_on_the_stack() -> None:
    recorder = Recorder()
    call_from(DOWNLOADS.module, recorder, "dynamodb", "GetItem", TableName="t", Key={})
    call_from("tests.something", recorder, "dynamodb", "Scan", TableName="t")

    (call,) = recorder.take()
    assert (call.function, call.operation, call.missing) == ("downloads", "GetItem", ())


def test_a_scan_a_write_and_an_undeclared_index_are_denied() -> None:
    recorder = Recorder()
    call_from(DOWNLOADS.module, recorder, "dynamodb", "Scan", TableName="t")
    call_from(DOWNLOADS.module, recorder, "dynamodb", "Query", TableName="t", IndexName="GSI9")
    call_from(
        DOWNLOADS.module,
        recorder,
        "dynamodb",
        "TransactWriteItems",
        TransactItems=[{"Delete": {"TableName": "t", "Key": {}}}],
    )

    missing = [c.missing for c in recorder.take()]
    assert missing == [
        ("dynamodb:Scan on table",),
        (f"dynamodb:Query on {permissions.index('GSI9')}",),
        ("dynamodb:DeleteItem on table",),
    ]


def test_s3_calls_are_checked_by_prefix() -> None:
    fn = wiring.function("material_processor")
    assert permissions.missing(fn, "s3", "PutObject", {"Key": wiring.QUARANTINE_PREFIX + "x"}) == []
    assert permissions.missing(fn, "s3", "PutObject", {"Key": wiring.MATERIALS_PREFIX + "x"}) != []
    assert (
        permissions.missing(DOWNLOADS, "s3", "DeleteObject", {"Key": wiring.MATERIALS_PREFIX + "x"})
        != []
    )
