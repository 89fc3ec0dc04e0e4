"""Reports of a visit: self-contained HTML, Markdown (the JSON is the examination itself)."""

from __future__ import annotations

from itsm_doctor.report.html import render_html, write_html
from itsm_doctor.report.markdown import render_markdown

__all__ = ["render_html", "render_markdown", "write_html"]
