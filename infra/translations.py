"""The build step of the gettext catalogs: ``shared/i18n/locale/<lang>/LC_MESSAGES/kbs.po``
(the sources, committed) compiled to ``kbs.mo`` beside them (not committed).

Run by ``make translations`` (and so by ``make``'s install step), by the CDK app before it
packages the Lambda asset (:func:`infra.app.build_app`), and by the test session
(``tests/conftest.py``), so a fresh clone's tests and every synthesized asset carry the ``.mo``
files. ``python -m infra.translations extract`` rewrites ``kbs.pot`` from the code and
templates (``babel.cfg``) and merges it into every ``.po`` (new messages come in untranslated:
the catalog test then fails until they are translated).
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "shared" / "i18n" / "locale"
TEMPLATE = LOCALE / "kbs.pot"
MAPPING = ROOT / "babel.cfg"


def po_files() -> list[Path]:
    """Every language's ``kbs.po``, sorted by language."""
    return sorted(LOCALE.glob("*/LC_MESSAGES/kbs.po"))


def compile_catalogs() -> list[Path]:
    """Compile each ``kbs.po`` to ``kbs.mo`` (fuzzy entries left out, as gettext does) when the
    ``.mo`` is missing or older; returns the ``.mo`` paths written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in po_files():
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        mo.write_bytes(buffer.getvalue())
        written.append(mo)
    return written


def extracted_template() -> bytes:
    """The ``.pot`` the code and templates give now (``babel.cfg``), without dates, sorted."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.pofile import write_po

    with MAPPING.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    catalog = Catalog(project="kbs", fuzzy=False)
    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
    for _path, _lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        catalog.add(message, None, [], auto_comments=comments, context=context)
    buffer = BytesIO()
    write_po(buffer, catalog, omit_header=True, sort_output=True, no_location=True, width=0)
    return buffer.getvalue()


def extract() -> None:
    """Rewrite ``kbs.pot`` and merge it into every ``kbs.po``."""
    from babel.messages.pofile import read_po, write_po

    TEMPLATE.write_bytes(extracted_template())
    with TEMPLATE.open("rb") as source:
        template = read_po(source)
    for po in po_files():
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parts[-3])
        catalog.update(template, update_header_comment=False)
        buffer = BytesIO()
        write_po(buffer, catalog, sort_output=True, no_location=True, width=0, ignore_obsolete=True)
        po.write_bytes(buffer.getvalue())


if __name__ == "__main__":
    if sys.argv[1:] == ["extract"]:
        extract()
    for path in compile_catalogs():
        print(f"compiled {path.relative_to(ROOT)}")
