"""DynamoDB grants are exactly what each function declares (``infra.wiring.TableAccess``): no
``Scan``, no stream actions, Query on the named indexes only; and every grant
``infra.permissions`` lists (against which ``tests/aws_calls.py`` checks each recorded call)
is in the function's role in the template.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import permissions
from tests.infra.cfn import Synth, as_list, ref

pytestmark = pytest.mark.xdist_group("synth")

NEVER = {"dynamodb:Scan", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:*"}


def role_statements(synth: Synth) -> dict[str, list[dict[str, Any]]]:
    """Each declared function's name -> the statements of its role's policies."""
    roles = {
        f["Properties"]["Handler"]: ref(f["Properties"]["Role"])
        for f in synth.of_type("AWS::Lambda::Function").values()
    }
    by_role: dict[str, list[dict[str, Any]]] = {}
    for policy in synth.of_type("AWS::IAM::Policy").values():
        for role in policy["Properties"]["Roles"]:
            by_role.setdefault(ref(role) or "", []).extend(
                policy["Properties"]["PolicyDocument"]["Statement"]
            )
    return {fn.name: by_role.get(roles[fn.handler] or "", []) for fn in synth.functions}


def table_resource(value: Any, table_id: str) -> str:
    """``table`` for the table's ARN, ``table/index/NAME`` for an index's; raises otherwise."""
    if ref(value) == table_id:
        return permissions.TABLE
    parts = value["Fn::Join"][1]
    assert ref(parts[0]) == table_id and parts[1].startswith("/index/"), value
    assert "*" not in parts[1], f"wildcard index grant: {value}"
    return permissions.index(parts[1].removeprefix("/index/"))


def test_no_role_may_scan_or_read_a_stream(synth: Synth) -> None:
    for fn, found in role_statements(synth).items():
        actions = {a for s in found for a in as_list(s["Action"])}
        assert not actions & NEVER, f"{fn}: {sorted(actions & NEVER)}"
    assert "dynamodb:Scan" not in json.dumps(synth.template)


def test_table_grants_are_exactly_the_declared_actions_and_indexes(synth: Synth) -> None:
    (table_id,) = synth.of_type("AWS::DynamoDB::Table")
    statements = role_statements(synth)
    for fn in synth.functions:
        granted: set[tuple[str, str]] = set()
        for statement in statements[fn.name]:
            for action in as_list(statement["Action"]):
                if action.startswith("dynamodb:"):
                    granted |= {
                        (action, table_resource(r, table_id))
                        for r in as_list(statement["Resource"])
                    }
        declared = {
            (action, grant.resource)
            for grant in permissions.grants(fn)
            for action in grant.actions
            if action.startswith("dynamodb:")
        }
        assert granted == declared, fn.name


def test_every_permission_the_call_check_assumes_is_in_the_role(synth: Synth) -> None:
    statements = role_statements(synth)
    for fn in synth.functions:
        actions = {a for s in statements[fn.name] for a in as_list(s["Action"])}
        for grant in permissions.grants(fn):
            assert set(grant.actions) <= actions, f"{fn.name}: {grant}"
