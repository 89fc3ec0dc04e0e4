"""The report as Markdown, for tickets, wikis and e-mail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from itsm_doctor.records.text import sanitise
from itsm_doctor.report.view import report_view

__all__ = ["render_markdown"]


def _cell(text: Any) -> str:
    # Markdown tables: a pipe or a line break in data would break the row; angle brackets
    # are escaped so that renderers that allow HTML show data as text.
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(
    examination: Mapping[str, Any],
    *,
    followup: Mapping[str, Any] | None = None,
    visits: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The report's main tables as Markdown: the same words and numbers as the HTML report
    (names where a person reads, ids where ``register adopt`` needs them), without charts."""
    # the data's text, without control characters
    view = report_view(
        sanitise(examination),
        followup=sanitise(followup) if followup else None,
        visits=[sanitise(v) for v in visits],
        version="",
        charts=False,
    )
    visit = view["visit"]
    lines = [f"# ITSM Doctor — {_cell(view['patient'])}", ""]
    lines.append(f"Visit `{_cell(visit.get('id', ''))}`: records from {_cell(view['period'])}.")
    lines += ["", "## Diagnoses", "", "| dysfunction | verdict | likelihood | evidence for |", "|---|---|---:|---|"]
    for d in view["diagnoses"]:
        support = ", ".join(f"{_cell(e['name'])} {_cell(e['shown'])}" for e in d["evidence"] if e["supports"])
        verdict = _cell(d["words"]) + (f"; {_cell(d['followup'])}" if d["followup"] else "")
        lines.append(f"| {_cell(d['name'])} | {verdict} | {d['likelihood']:.0%} | {support} |")
    lines += ["", "## Prescriptions", ""]
    for sphere, items in view["prescriptions"]:
        lines += [f"### {sphere.capitalize()}", ""]
        lines += [
            f"- **{_cell(p['title'])}** (`{_cell(p['id'])}`; {_cell(p['practice'])}; effort {_cell(p['effort'])}) "
            f"for {_cell(p['dysfunction'])}; should move: {_cell(', '.join(p['moves']) or '—')}"
            for p in items
        ]
        lines.append("")
    lines += ["## Signs", ""]
    for area, items in view["signs"]:
        lines += [f"### {area.capitalize()}", "", "| sign | value | status | band |", "|---|---:|---|---|"]
        lines += [
            f"| {_cell(s['name'])} (`{_cell(s['id'])}`) | {_cell(s['shown'])} | {_cell(s['status'])} "
            f"| {_cell(' · '.join(s['band']))}{' (working band)' if s['working_band'] else ''} |"
            for s in items
        ]
        lines.append("")
    fu = view["followup"]
    if fu and fu["effects"]:
        lines += [
            "## Follow-up",
            "",
            "| prescription | adopted | sign | before | after | p (Holm) | verdict | reading |",
            "|---|---|---|---:|---:|---:|---|---|",
        ]
        for e in fu["effects"]:
            lines.append(
                f"| {_cell(e['title'])} (`{_cell(e['prescription'])}`) | {_cell(e['since'])} | {_cell(e['sign'])} "
                f"| {_cell(e['before'])} | {_cell(e['after'])} | {_cell(e['p'])} "
                f"| {_cell(str(e['verdict'] or '').replace('_', ' '))} | {_cell(e['reading'])} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"
