"""HTML rendering shared by every report page: Jinja2 templates shipped with the package.

Templates live in ``tfx_addons_lab/templates/*.html.j2`` (package data). The environment
autoescapes every ``{{ value }}`` (so text from data cannot inject markup) and uses
``StrictUndefined`` (a misspelled variable is an error, not an empty string).

>>> from tfx_addons_lab._templates import render
>>> render("drift_index.html.j2", index={...}, title="Drift reports")  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["render"]


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("tfx_addons_lab", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template_name: str, **context: Any) -> str:
    """Render the package template ``template_name`` with ``context``; returns the text.

    Raises:
      jinja2.TemplateNotFound: no such template in ``tfx_addons_lab/templates``.
      jinja2.UndefinedError: the template uses a variable that ``context`` lacks.
    """
    return _environment().get_template(template_name).render(**context)
