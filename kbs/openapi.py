"""``python -m kbs.openapi [--check]`` (``make openapi``): the public API's OpenAPI document.

Each HTTP function of the wiring (``infra/wiring.py``) has its own Powertools resolver (``app``
in its handler module); their documents are merged into one, written to ``openapi.json`` at the
repository's root. ``--check`` writes nothing and exits 1 if the committed file differs.
(Powertools 3.23, the version of the Lambda layer, has no ``configure_openapi_merge``.)
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.wiring import FUNCTIONS, HttpRoute

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "openapi.json"
TITLE = "Knowledge Building Series: public API"
VERSION = "1"
DESCRIPTION = (
    "Registration for the sessions of the Knowledge Building Series, and the signed links of "
    "the emails (cancel, unsubscribe, your data, materials). Every route answers JSON, or an "
    "HTML page when `Accept` prefers it."
)
UNANSWERED = "422"
"""Powertools documents its validation error; our handlers answer it as a 400 (see
``shared.web.forms.invalid_request``), so it is left out."""
REF = "#/components/schemas/"


def http_modules() -> list[str]:
    """The handler modules of the functions with HTTP routes, in the wiring's order."""
    return [fn.module for fn in FUNCTIONS if fn.of_kind(HttpRoute)]


def document() -> dict[str, Any]:
    """The merged document: every resolver's paths and component schemas.

    Raises ``ValueError`` if two resolvers declare the same path and method, or the same
    component schema name with different definitions."""
    merged: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for module in http_modules():
        app = importlib.import_module(module).app
        part = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
        merged = merged or part
        for path, operations in part.get("paths", {}).items():
            for method, operation in operations.items():
                if method in paths.setdefault(path, {}):
                    raise ValueError(f"{method.upper()} {path} is declared twice")
                operation["responses"].pop(UNANSWERED, None)
                paths[path][method] = operation
        for name, schema in part.get("components", {}).get("schemas", {}).items():
            if schemas.setdefault(name, schema) != schema:
                raise ValueError(f"component schema {name} differs between resolvers")
    merged["info"] = {"title": TITLE, "version": VERSION, "description": DESCRIPTION}
    merged["paths"] = dict(sorted(paths.items()))
    merged["components"] = {"schemas": dict(sorted(schemas.items()))}
    merged.pop("servers", None)
    return _referenced_only(merged)


def _referenced_only(merged: dict[str, Any]) -> dict[str, Any]:
    """``merged`` without the component schemas nothing refers to (Powertools' 422 bodies)."""
    schemas = merged["components"]["schemas"]
    while True:
        text = json.dumps(merged)
        unused = [name for name in schemas if f'"{REF}{name}"' not in text]
        if not unused:
            return merged
        for name in unused:
            del schemas[name]


def rendered(merged: dict[str, Any] | None = None) -> str:
    """The document as committed: indented, paths and schemas sorted, a final newline."""
    return json.dumps(merged or document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kbs.openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if openapi.json is stale")
    args = parser.parse_args(argv)
    merged = document()
    text = rendered(merged)
    if args.check:
        current = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
        if current != text:
            print(f"{DOCUMENT.name} is stale: run make openapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT.name}: {sum(map(len, merged['paths'].values()))} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
