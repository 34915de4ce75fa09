"""The layout's rules: imports point one way, and modules stay small enough to hold in one's head.

Given every module of ``functions/`` and ``shared/``, parsed (never imported), then its imports
must point one way: handlers -> domain packages -> platform; nothing in ``shared/`` reaches the
organiser tool, the CDK app or a handler, none of which ship in the Lambda zip's ``shared/``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "shared"
MAX_LINES = 420


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(SHARED), ids=lambda p: str(p.relative_to(ROOT)))
def test_shared_code_never_imports_the_tool_the_app_or_a_handler(path: Path) -> None:
    outside = {m for m in _imports(path) if m.split(".")[0] in {"functions", "infra", "kbs"}}
    assert not outside, f"{path.relative_to(ROOT)} imports {sorted(outside)}"


@pytest.mark.parametrize(
    "path", _modules(SHARED / "platform"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_the_platform_package_imports_no_domain_package(path: Path) -> None:
    domain = {
        m for m in _imports(path) if m.startswith("shared.") and not m.startswith("shared.platform")
    }
    assert not domain, f"{path.relative_to(ROOT)} imports {sorted(domain)}"


@pytest.mark.parametrize(
    "path", _modules(ROOT / "functions"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_handlers_import_only_shared_code_and_libraries(path: Path) -> None:
    outside = {m for m in _imports(path) if m.split(".")[0] in {"infra", "kbs"}}
    outside |= {m for m in _imports(path) if m.startswith("functions.")}
    assert not outside, f"{path.relative_to(ROOT)} imports {sorted(outside)}"


def test_shared_is_grouped_in_packages_not_a_flat_folder() -> None:
    flat = [p.name for p in SHARED.glob("*.py") if p.name != "__init__.py"]
    assert flat == [], f"modules at the top of shared/: {flat}; put each in its domain package"


@pytest.mark.parametrize("path", _modules(SHARED), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_shared_module_is_too_long_to_hold_in_one_s_head(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES})"
