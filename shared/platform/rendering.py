"""Jinja2 templates shipped beside the code: one cached environment per template folder.

A domain package keeps its templates in its own ``templates/`` folder (``shared/mail/templates``,
``shared/web/templates``), shipped in the Lambda zip with the code. ``jinja2`` comes from the
dependencies layer and is imported on the first render only, never when a handler module is
imported, so a cold start does not pay for it (``make bench``).

``*.html`` templates are autoescaped, with the entities of :func:`html.escape` (``&quot;``,
``&#x27;``) rather than Jinja2's ``&#34;``/``&#39;``: the same characters are escaped, and the
pages and emails stay byte for byte what the earlier hand-escaped renderers produced. ``*.txt``
templates are not escaped. An undefined name is an error (``StrictUndefined``), not blank text.
"""

from __future__ import annotations

import html
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2
    from jinja2.nodes import EvalContext


def render(package: str, name: str, /, **context: Any) -> str:
    """Template ``name`` of ``package``'s ``templates/`` folder rendered with ``context``.

    Raises ``jinja2.TemplateNotFound`` for an unknown template and ``jinja2.UndefinedError``
    when the template uses a name ``context`` lacks.
    """
    return environment(package).get_template(name).render(**context)


def macros(package: str, name: str) -> Any:
    """The macros of template ``name`` as callables (each returns escaped HTML as a ``str``
    subclass), for filling a slot of a page that is not itself a template."""
    return environment(package).get_template(name).module


@cache
def environment(package: str) -> jinja2.Environment:
    """The environment of ``package``'s ``templates/`` folder (e.g. ``"shared.mail"``), made once
    per process."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        finalize=jinja2.pass_eval_context(_escape_as_stdlib),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _escape_as_stdlib(context: EvalContext, value: Any) -> Any:
    """Each ``{{ value }}`` of an autoescaped template, escaped by :func:`html.escape`; markup
    (a macro's output) and the values of text templates pass unchanged."""
    if not context.autoescape or hasattr(value, "__html__"):
        return value
    import markupsafe

    return markupsafe.Markup(html.escape(str(value)))  # noqa: S704 (escaped here)
