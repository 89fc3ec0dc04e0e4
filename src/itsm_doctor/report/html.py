"""The self-contained HTML report: one file, charts inline, no network request."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from itsm_doctor import __version__
from itsm_doctor.records.text import sanitise
from itsm_doctor.report.view import report_view

__all__ = ["render_html", "write_html"]

_ENV = Environment(
    loader=PackageLoader("itsm_doctor.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(examination: Mapping[str, Any], *, followup: Mapping[str, Any] | None = None) -> str:
    """The report as one HTML document; every value from the data is escaped by the template."""
    # the data's text enters the report here: control characters SVG and the chart renderer
    # refuse (NUL, VT, ESC, U+FFFE) are removed at this boundary
    view = report_view(sanitise(examination), followup=sanitise(followup) if followup else None, version=__version__)
    return _ENV.get_template("report.html.j2").render(**view)


def write_html(path: Path, examination: Mapping[str, Any], *, followup: Mapping[str, Any] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(examination, followup=followup), encoding="utf-8")
    return path
