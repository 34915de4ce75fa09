"""Templates: jinja2 loads on the first render, never at a cold start; HTML is escaped as
:func:`html.escape` does, text is not, and a missing value is an error."""

from __future__ import annotations

import json
import subprocess
import sys

import jinja2
import pytest

from infra.wiring import FUNCTIONS
from shared.platform import rendering

COLD_THEN_RENDER = """
import importlib, json, sys
for module in sys.argv[1:]:
    importlib.import_module(module)
cold = "jinja2" in sys.modules
from shared.web import pages
pages.unavailable_page("x")
print(json.dumps([cold, "jinja2" in sys.modules]))
"""


def test_no_handler_imports_jinja2_until_something_is_rendered() -> None:
    modules = [fn.module for fn in FUNCTIONS]
    out = subprocess.run(
        [sys.executable, "-c", COLD_THEN_RENDER, *modules],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert json.loads(out) == [False, True]


def test_html_templates_escape_every_value_with_the_stdlib_entities() -> None:
    footer = rendering.render(
        "shared.mail", "footer.html", label="Łódź & <b>'x'</b>", url='u?a=1&b="2"', link="L", rule=1
    )

    assert footer == (
        '<hr style="border:0;border-top:1px solid #d0d5dd"><p style="font-size:0.85em;'
        'color:#4b5563">Łódź &amp; &lt;b&gt;&#x27;x&#x27;&lt;/b&gt; '
        '<a href="u?a=1&amp;b=&quot;2&quot;" style="color:#0b4f8a">L</a></p>\n'
    )


def test_text_templates_are_not_escaped() -> None:
    text = rendering.render("shared.mail", "footer.txt", label="<b>&'", url="u&v", link="", rule=0)

    assert text == "<b>&'\nu&v\n"


def test_a_missing_value_is_an_error_not_blank_text() -> None:
    with pytest.raises(jinja2.UndefinedError):
        rendering.render("shared.mail", "footer.txt", label="x", link="", rule=0)


def test_the_environment_is_made_once_per_template_folder() -> None:
    assert rendering.environment("shared.web") is rendering.environment("shared.web")
    assert rendering.environment("shared.web") is not rendering.environment("shared.mail")
