"""The drawn HTML reports, kept in the data folder (drawing one takes seconds; a visit is
immutable, so its report never changes; a follow-up's key names every input it reads)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from itsm_doctor.web.settings import WebSettings

__all__ = ["cached_report", "store_report", "visit_report_key"]


def _path(settings: WebSettings, key: str) -> Path:
    return settings.files / "reports" / f"{key}.html"


def visit_report_key(visit_id: str) -> str:
    return f"visit-{visit_id}"


def store_report(settings: WebSettings, key: str, html: str) -> None:
    """Write atomically: a reader sees the whole report or none."""
    path = _path(settings, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{uuid.uuid4().hex}.part")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)


def cached_report(settings: WebSettings, key: str, draw: Callable[[], str]) -> str:
    path = _path(settings, key)
    if path.is_file():
        return path.read_text(encoding="utf-8")
    html = draw()
    store_report(settings, key, html)
    return html
