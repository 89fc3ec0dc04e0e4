"""Which charts the report draws, and why a sign gets none.

A chart is drawn only where it says something and agrees with the table beside it: at least
three distinct periods, more than one value, the values in the unit the table shows (hours
as days where the table says days), and a monthly series that measures the sign itself (a
trend sign's months hold the series it is computed from, in another unit).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from itsm_doctor.report.charts import MIN_POINTS, control_chart_svg, trend_svg

__all__ = ["control_charts", "in_days", "monthly_trends", "no_chart_reason", "visit_label"]

_TOLERANCE = 1e-6


def in_days(value: Any, unit: str | None) -> bool:
    """Whether the table shows this value in days (``format_value`` does past 48 h)."""
    return unit == "h" and isinstance(value, int | float) and abs(float(value)) >= 48


def _number(cell: Any) -> float | None:
    if isinstance(cell, Mapping):
        cell = cell.get("value")
    return float(cell) if isinstance(cell, int | float) and math.isfinite(float(cell)) else None


def no_chart_reason(*, headline: Any, labels: Sequence[str], values: Sequence[float | None]) -> str | None:
    """Why this series makes no chart, or None when it makes one."""
    known = [(lab, v) for lab, v in zip(labels, values, strict=True) if v is not None]
    if len({lab for lab, _ in known}) < MIN_POINTS:
        return f"no chart: fewer than {MIN_POINTS} months with a value"
    distinct = {round(v, 12) for _, v in known}
    if len(distinct) < 2:
        return "no chart: the same value every month"
    if isinstance(headline, int | float) and math.isfinite(float(headline)):
        lo, hi = min(distinct), max(distinct)
        slack = _TOLERANCE * max(1.0, abs(lo), abs(hi))
        if not lo - slack <= float(headline) <= hi + slack:
            return "no chart: its monthly values are the series it is computed from, in another unit"
    return None


def monthly_trends(
    signs: Sequence[Mapping[str, Any]], *, draw: bool = True
) -> tuple[dict[str, list[dict[str, str]]], dict[str, str]]:
    """Per audit area, the sign's monthly chart (``{"sign", "name", "svg"}``; the SVG only
    when ``draw``); and per sign without a chart, why not."""
    charts: dict[str, list[dict[str, str]]] = {}
    reasons: dict[str, str] = {}
    for s in signs:
        sid, name, unit = str(s["id"]), str(s.get("name") or s["id"]), str(s.get("unit"))
        month = (s.get("breakdowns") or {}).get("month")
        if s.get("value") is None:
            continue  # n/a already says why
        if not isinstance(month, Mapping) or not month:
            reasons[sid] = "no chart: no monthly breakdown"
            continue
        labels = sorted(str(m) for m in month)
        values = [_number(month[m]) for m in sorted(month)]
        why = no_chart_reason(headline=s.get("value"), labels=labels, values=values)
        if why:
            reasons[sid] = why
            continue
        svg = (
            trend_svg(labels=labels, values=values, title=name, unit=unit, days=in_days(s.get("value"), unit))
            if draw
            else ""
        )
        charts.setdefault(str(s.get("area")), []).append({"sign": sid, "name": name, "svg": svg})
    return charts, reasons


def visit_label(examination: Mapping[str, Any]) -> str:
    """A visit as a date on a trend: the span its records cover (``2026-01 – 2026-06``), not
    the day it was computed; that day only when the period is unknown."""
    visit = examination.get("visit") or {}
    period = visit.get("period") or {}
    start, end = str(period.get("from") or "")[:7], str(period.get("to") or "")[:7]
    if start and end:
        return start if start == end else f"{start} – {end}"
    return str(visit.get("at") or "")[:10]


def _adoptions(followup: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Per sign, the adoptions of the prescriptions that should move it: (month, label)."""
    marks: dict[str, set[tuple[str, str]]] = {}
    for e in followup.get("effects") or []:
        since = str(e.get("since") or "")
        if since:
            marks.setdefault(str(e.get("sign")), set()).add((since[:7], f"adopted {since}"))
    for c in followup.get("control_charts") or []:  # the adoptions follow-up hands over per chart
        for a in c.get("adoptions") or []:
            since = str(a.get("since") or "")
            if since:
                marks.setdefault(str(c.get("sign")), set()).add((str(a.get("label") or since[:7]), f"adopted {since}"))
    return {k: sorted(v) for k, v in marks.items()}


def control_charts(
    followup: Mapping[str, Any], signs_by_id: Mapping[str, Mapping[str, Any]], *, draw: bool = True
) -> tuple[list[dict[str, Any]], list[str]]:
    """The follow-up's control charts to draw, each with its adoption markers, and a line per
    chart left out saying why."""
    marks = _adoptions(followup)
    drawn: list[dict[str, Any]] = []
    skipped: list[str] = []
    for c in followup.get("control_charts") or []:
        sign = signs_by_id.get(str(c.get("sign")), {})
        name = str(sign.get("name") or c.get("title") or c.get("sign"))
        chart = c["chart"]
        unit = str(c.get("unit") or sign.get("unit"))
        why = no_chart_reason(
            headline=sign.get("value"), labels=list(chart["labels"]), values=[float(v) for v in chart["values"]]
        )
        if why:
            skipped.append(f"{name}: {why}")
            continue
        markers = marks.get(str(c.get("sign")), [])
        days = in_days(sign.get("value"), unit)
        # follow-up computed the limits on the months before the adoption: the chart says so
        note = f"limits from the {chart['baseline']} months before the adoption" if chart.get("baseline") else ""
        title = f"{name} by month"
        svg = control_chart_svg(chart, title=title, unit=unit, days=days, markers=markers, note=note) if draw else ""
        drawn.append(
            {
                "sign": str(c.get("sign")),
                "name": name,
                "svg": svg,
                "adopted": [m for m, _ in markers if m in chart["labels"]],
            }
        )
    drawn.sort(key=lambda c: not c["adopted"])  # the signs a remedy should move first (stable otherwise)
    return drawn, skipped
