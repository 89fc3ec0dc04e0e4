"""The report as Markdown, for tickets, wikis and e-mail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from itsm_doctor.records.text import sanitise
from itsm_doctor.report.view import AREAS, SPHERES, format_p, format_value

__all__ = ["render_markdown"]


def _cell(text: Any) -> str:
    # Markdown tables: a pipe or a line break in data would break the row; angle brackets
    # are escaped so that renderers that allow HTML show data as text.
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(examination: Mapping[str, Any], *, followup: Mapping[str, Any] | None = None) -> str:
    examination = sanitise(examination)  # the data's text, without control characters
    visit = examination.get("visit") or {}
    lines = [f"# ITSM Doctor — {_cell(examination.get('patient') or 'patient')}", ""]
    lines.append(f"Visit `{_cell(visit.get('id', ''))}` at {_cell(visit.get('at', ''))}.")
    lines += ["", "## Diagnoses", "", "| dysfunction | verdict | likelihood | evidence for |", "|---|---|---:|---|"]
    for d in examination.get("diagnoses") or []:
        support = ", ".join(f"`{_cell(e['id'])}`" for e in d.get("evidence") or [] if e.get("supports"))
        lines.append(f"| {_cell(d['name'])} | {d['verdict']} | {d.get('likelihood', 0):.0%} | {support} |")
    lines += ["", "## Prescriptions", ""]
    for sphere in SPHERES:
        items = [p for p in examination.get("prescriptions") or [] if p.get("sphere") == sphere]
        if items:
            lines += [f"### {sphere.capitalize()}", ""]
            lines += [
                f"- **{_cell(p['title'])}** ({_cell(p.get('practice', ''))}; effort {_cell(p.get('effort', ''))}) "
                f"for {_cell(p.get('dysfunction', ''))}"
                for p in items
            ]
            lines.append("")
    lines += ["## Signs", ""]
    for area in AREAS:
        items = [s for s in examination.get("signs") or [] if s.get("area") == area]
        if not items:
            continue
        lines += [f"### {area.capitalize()}", "", "| sign | value | status |", "|---|---:|---|"]
        lines += [
            f"| {_cell(s.get('name') or s['id'])} (`{s['id']}`) | {format_value(s.get('value'), s.get('unit'))} "
            f"| {s.get('status', 'n/a')} |"
            for s in items
        ]
        lines.append("")
    if followup and followup.get("effects"):
        lines += [
            "## Follow-up",
            "",
            "| prescription | sign | before | after | p (Holm) | verdict | reading |",
            "|---|---|---:|---:|---:|---|---|",
        ]
        for e in followup["effects"]:
            unit = e.get("unit")
            p = format_p(e["p_adjusted"] if "p_adjusted" in e else e.get("p_value"))  # older follow-ups: raw p
            lines.append(
                f"| {_cell(e.get('title') or e.get('prescription'))} | `{e.get('sign')}` "
                f"| {format_value(e.get('before'), unit)} | {format_value(e.get('after'), unit)} | {p} "
                f"| {str(e.get('verdict', '')).replace('_', ' ')} | {_cell(str(e.get('reading') or ''))} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"
