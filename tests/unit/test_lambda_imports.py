"""Every handler imports only what the Lambda runtime has: the zip ships ``functions/`` and
``shared/`` alone, so anything beyond the standard library, the AWS SDK that the Python runtime
bundles, and the Powertools layer (Powertools with its extras: pydantic, the X-Ray SDK, ...)
would be an ImportError in AWS that no local test would see."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infra.wiring import FUNCTIONS

SHIPPED = {"functions", "shared"}
AWS_SDK = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3", "certifi"}
POWERTOOLS_LAYER = {
    "aws_lambda_powertools",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    "typing_inspection",
    "aws_xray_sdk",
    "wrapt",
    "fastjsonschema",
}
LISTING = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.mark.parametrize("module", [fn.module for fn in FUNCTIONS])
def test_a_handler_imports_nothing_the_lambda_runtime_lacks(module: str) -> None:
    listing = subprocess.run(
        [sys.executable, "-c", LISTING, module], capture_output=True, text=True, check=True
    )
    imported = set(json.loads(listing.stdout))
    third_party = {
        name
        for name in imported - set(sys.stdlib_module_names)
        if not name.startswith("_")  # the interpreter's own (_ssl, _decimal, ...)
    }
    assert third_party - SHIPPED - AWS_SDK - POWERTOOLS_LAYER == set()
