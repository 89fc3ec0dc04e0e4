"""Charts for the report, rendered to inline SVG so the file opens offline.

Data charts are Vega-Lite specs (built with Altair) rendered by vl-convert, which escapes
every label it writes; the two diagrams Vega-Lite does not draw well — the status process
map and the maturity radar — are written here as SVG with every data string escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import altair as alt
import vl_convert as vlc

__all__ = [
    "MIN_POINTS",
    "Axis",
    "control_chart_svg",
    "handover_heatmap_svg",
    "radar_svg",
    "status_map_svg",
    "trend_svg",
    "value_axis",
]

_INK, _MUTED, _ACCENT, _ALARM, _GOOD = "#1f2a37", "#6b7280", "#2563eb", "#dc2626", "#059669"


MIN_POINTS = 3  # fewer distinct periods than this draw no line: two dots say nothing of a trend


def _data(rows: list[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=rows)  # type: ignore[no-untyped-call]


def _render(chart: alt.TopLevelMixin) -> str:
    spec = chart.configure_view(stroke=None).configure_axis(labelColor=_MUTED, titleColor=_MUTED).to_dict()
    svg: str = vlc.vegalite_to_svg(spec)
    return svg


@dataclass(frozen=True, kw_only=True)
class Axis:
    """A value axis in the unit the report's table shows: its scale factor from the sign's
    unit, the ticks (distinct once formatted) and the d3 format of their labels."""

    factor: float
    title: str
    ticks: tuple[float, ...]
    fmt: str


def _nice_step(span: float) -> float:
    raw = span / 4
    power = 10.0 ** math.floor(math.log10(raw))
    return next(float(m * power) for m in (1, 2, 5, 10) if m * power >= raw)


def value_axis(*, unit: str, values: Sequence[float], days: bool) -> Axis:
    """The axis for ``values`` (in the sign's ``unit``): shares as %, hours as days when the
    table shows days; ticks on a round step, with as many decimals as keep labels distinct."""
    factor, title = (1 / 24, "days") if unit == "h" and days else (1.0, {"h": "hours", "ratio": ""}.get(unit, unit))
    shown = [v * factor * (100 if unit == "ratio" else 1) for v in values]
    lo, hi = min(shown), max(shown)
    step = _nice_step(hi - lo) if hi > lo else _nice_step(abs(hi) or 1.0)
    first = math.floor(lo / step) * step
    ticks = [first + i * step for i in range(math.ceil((hi - first) / step - 1e-9) + 1)]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if round(step * 10**decimals, 9) % 1:  # a step that is not a whole number of its last decimal
        decimals += 1
    scale = 100 if unit == "ratio" else 1
    fmt = f".{decimals}%" if unit == "ratio" else f",.{decimals}f"
    return Axis(factor=factor, title=title, ticks=tuple(round(t / scale, 12) for t in ticks), fmt=fmt)


def trend_svg(*, labels: Sequence[str], values: Sequence[float | None], title: str, unit: str, days: bool) -> str:
    """A small line chart of one sign across periods (months or visits), in the table's unit."""
    known = [(lab, v) for lab, v in zip(labels, values, strict=True) if v is not None]
    axis = value_axis(unit=unit, values=[v for _, v in known], days=days)
    rows = [{"period": lab, "value": v * axis.factor} for lab, v in known]
    chart = (
        alt.Chart(_data(rows), title=alt.TitleParams(title, fontSize=11, anchor="start", color=_INK))
        .mark_line(point=True, color=_ACCENT)
        .encode(
            x=alt.X("period:O", title=None, sort=None),
            y=alt.Y(
                "value:Q",
                title=axis.title or None,
                axis=alt.Axis(format=axis.fmt, values=list(axis.ticks), labelOverlap=False),
                scale=alt.Scale(domain=[axis.ticks[0], axis.ticks[-1]], zero=False),
            ),
            tooltip=["period:O", alt.Tooltip("value:Q", format=axis.fmt)],
        )
        .properties(width=260, height=110)
    )
    return _render(chart)


def control_chart_svg(
    chart: Mapping[str, Any],
    *,
    title: str,
    unit: str,
    days: bool,
    markers: Sequence[tuple[str, str]] = (),
    note: str = "",
) -> str:
    """An XmR or p-chart: points, centre line, control limits (per point, so a baseline
    phase's limits show as computed), the signals in red, and a vertical marker with a label
    at each ``markers`` period (an adoption: (period label, text)); ``note`` under the title."""
    flagged = {int(s["index"]) for s in chart.get("signals", [])}
    centres = chart.get("centers") or [chart["center"]] * len(chart["values"])
    every = [
        *chart["values"],
        *(v for v in chart["lower"] if v is not None),
        *(v for v in chart["upper"] if v is not None),
    ]
    axis = value_axis(unit=unit, values=[float(v) for v in every], days=days)
    f = axis.factor
    rows = [
        {
            "period": lab,
            "value": v * f,
            "lower": None if lo is None else lo * f,
            "upper": None if up is None else up * f,
            "center": c * f,
            "signal": "out of control" if i in flagged else "in control",
        }
        for i, (lab, v, lo, up, c) in enumerate(
            zip(chart["labels"], chart["values"], chart["lower"], chart["upper"], centres, strict=True)
        )
    ]
    scale = alt.Scale(domain=[axis.ticks[0], axis.ticks[-1]], zero=False)
    # every layer carries the same axis: Vega-Lite merges the layers' axes into one, and a
    # layer without these settings would bring back its defaults (culled labels, raw format)
    y_axis = alt.Axis(format=axis.fmt, values=list(axis.ticks), labelOverlap=False)
    y = alt.Y("value:Q", title=axis.title or None, axis=y_axis, scale=scale)
    base = alt.Chart(_data(rows)).encode(x=alt.X("period:O", title=None, sort=None))
    limits = base.mark_line(strokeDash=[4, 3], color=_MUTED).encode(
        y=alt.Y("upper:Q", title=axis.title or None, scale=scale, axis=y_axis)
    ) + base.mark_line(strokeDash=[4, 3], color=_MUTED).encode(
        y=alt.Y("lower:Q", title=axis.title or None, scale=scale, axis=y_axis)
    )
    center = base.mark_line(color=_MUTED).encode(
        y=alt.Y("center:Q", title=axis.title or None, scale=scale, axis=y_axis)
    )
    line = base.mark_line(color=_ACCENT).encode(y=y)
    points = base.mark_point(filled=True, size=40).encode(
        y=y,
        tooltip=["period:O", alt.Tooltip("value:Q", format=axis.fmt, title=axis.title or "value"), "signal:N"],
        color=alt.Color(
            "signal:N",
            scale=alt.Scale(domain=["in control", "out of control"], range=[_ACCENT, _ALARM]),
            legend=alt.Legend(title=None, orient="bottom"),
        ),
    )
    layers: list[Any] = [line, limits, center, points]  # the first layer owns the shared y axis
    marks = [{"period": p, "text": t} for p, t in markers if p in chart["labels"]]
    if marks:
        marker = alt.Chart(_data(marks)).encode(x=alt.X("period:O", sort=None))
        layers.append(marker.mark_rule(color=_GOOD, strokeWidth=2, strokeDash=[6, 3]))
        layers.append(
            marker.mark_text(color=_GOOD, align="left", dx=4, dy=-6, fontSize=10, baseline="top").encode(
                text="text:N", y=alt.value(0)
            )
        )
    heading = alt.TitleParams(
        title, fontSize=11, anchor="start", color=_INK, subtitle=note or alt.Undefined, subtitleFontSize=9
    )
    layered = alt.layer(*layers).properties(width=300, height=130, title=heading)
    return _render(layered)


def handover_heatmap_svg(edges: Sequence[Mapping[str, Any]], *, top: int = 15) -> str:
    """Handovers between groups (from → to, count) as a matrix of the ``top`` busiest groups."""
    volume: dict[str, int] = {}
    for e in edges:
        volume[str(e["from"])] = volume.get(str(e["from"]), 0) + int(e["count"])
        volume[str(e["to"])] = volume.get(str(e["to"]), 0) + int(e["count"])
    keep = set(sorted(volume, key=lambda g: (-volume[g], g))[:top])
    rows = [
        {"from": str(e["from"]), "to": str(e["to"]), "count": int(e["count"])}
        for e in edges
        if str(e["from"]) in keep and str(e["to"]) in keep
    ]
    order = sorted(keep, key=lambda g: (-volume[g], g))
    chart = (
        alt.Chart(_data(rows))
        .mark_rect()
        .encode(
            x=alt.X("to:N", sort=order, title="to group", axis=alt.Axis(labelAngle=-45, labelLimit=120)),
            y=alt.Y("from:N", sort=order, title="from group", axis=alt.Axis(labelLimit=120)),
            color=alt.Color("count:Q", scale=alt.Scale(scheme="blues", type="log"), title="handovers"),
            tooltip=["from:N", "to:N", "count:Q"],
        )
        .properties(width=min(26 * len(order), 420), height=min(26 * len(order), 420))
    )
    return _render(chart)


def status_map_svg(edges: Sequence[Mapping[str, Any]], *, order: Sequence[str]) -> str:
    """The directly-follows graph between statuses: nodes in lifecycle order, forward moves
    as arcs above, backward moves (rework, reopen) below; width grows with frequency."""
    nodes = [s for s in order if any(s in (e["from"], e["to"]) for e in edges)]
    extra = sorted({str(e[k]) for e in edges for k in ("from", "to")} - set(nodes))
    nodes += extra
    if not nodes:
        return ""
    gap, y0, r = 120, 170, 30
    width = gap * (len(nodes) - 1) + 2 * (r + 30)
    x = {n: r + 30 + i * gap for i, n in enumerate(nodes)}
    biggest = max(int(e["count"]) for e in edges)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="340" viewBox="0 0 {width} 340" '
        'role="img" aria-label="directly-follows graph between statuses" font-family="sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{_MUTED}"/></marker></defs>',
    ]
    for e in sorted(edges, key=lambda e: int(e["count"])):
        a, b = x[str(e["from"])], x[str(e["to"])]
        if a == b:
            continue
        forward = b > a
        lift = min(140, 25 + abs(b - a) * 0.35)
        cy = y0 - r - lift if forward else y0 + r + lift
        sy = y0 - r if forward else y0 + r
        w = 1 + 7 * math.log1p(int(e["count"])) / math.log1p(biggest)
        colour = _ACCENT if forward else _ALARM
        label = f"{int(e['count']):,}"
        if e.get("median_h") is not None:
            label += f" · {float(e['median_h']):.1f} h"
        parts.append(
            f'<path d="M{a},{sy} Q{(a + b) / 2},{cy} {b},{sy}" fill="none" stroke="{colour}" '
            f'stroke-opacity="0.55" stroke-width="{w:.1f}" marker-end="url(#arrow)">'
            f"<title>{escape(str(e['from']))} → {escape(str(e['to']))}: {escape(label)}</title></path>"
        )
        if int(e["count"]) < 0.02 * biggest:
            continue  # rare moves stay drawn (with a tooltip) but unlabelled, to keep the map legible
        ty = (sy + cy) / 2 + (-4 if forward else 12)
        parts.append(
            f'<text x="{(a + b) / 2}" y="{ty:.0f}" font-size="10" text-anchor="middle" fill="{_INK}">'
            f"{escape(label)}</text>"
        )
    for n in nodes:
        parts.append(f'<circle cx="{x[n]}" cy="{y0}" r="{r}" fill="#eef2ff" stroke="{_ACCENT}"/>')
        parts.append(
            f'<text x="{x[n]}" y="{y0 + 4}" font-size="11" text-anchor="middle" fill="{_INK}">'
            f"{escape(n.replace('_', ' '))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def radar_svg(
    levels: Mapping[str, Mapping[str, float | None]], *, series: Sequence[str] = ("self", "evidenced")
) -> str:
    """Maturity per practice (levels 0–5) on a radar, one polygon per series."""
    practices = list(levels)
    if len(practices) < 3:
        return ""
    size, c, rmax = 420, 210, 150
    colours = {series[0]: _ACCENT, series[-1]: "#059669"}

    def point(i: int, level: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / len(practices)
        return c + rmax * level / 5 * math.cos(angle), c + rmax * level / 5 * math.sin(angle)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 160}" height="{size}" '
        f'viewBox="-80 0 {size + 160} {size}" role="img" aria-label="maturity radar" font-family="sans-serif">'
    ]
    for level in range(1, 6):
        ring = " ".join(f"{px:.1f},{py:.1f}" for px, py in (point(i, level) for i in range(len(practices))))
        parts.append(f'<polygon points="{ring}" fill="none" stroke="#e5e7eb"/>')
    for i, name in enumerate(practices):
        px, py = point(i, 5.6)
        anchor = "middle" if abs(px - c) < 20 else ("start" if px > c else "end")
        parts.append(
            f'<text x="{px:.1f}" y="{py:.1f}" font-size="10" text-anchor="{anchor}" fill="{_INK}">'
            f"{escape(name.replace('_', ' '))}</text>"
        )
    for s in series:
        pts = [point(i, float(levels[p].get(s) or 0)) for i, p in enumerate(practices)]
        poly = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
        colour = colours.get(s, _MUTED)
        parts.append(f'<polygon points="{poly}" fill="{colour}" fill-opacity="0.15" stroke="{colour}"/>')
    for k, s in enumerate(series):
        parts.append(f'<rect x="-70" y="{12 + 16 * k}" width="10" height="10" fill="{colours.get(s, _MUTED)}"/>')
        parts.append(f'<text x="-55" y="{21 + 16 * k}" font-size="11" fill="{_INK}">{escape(s)}</text>')
    parts.append("</svg>")
    return "".join(parts)
