"""Charts for the report, rendered to inline SVG so the file opens offline.

Data charts are Vega-Lite specs (built with Altair) rendered by vl-convert, which escapes
every label it writes; the two diagrams Vega-Lite does not draw well — the status process
map and the maturity radar — are written here as SVG with every data string escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import altair as alt
import vl_convert as vlc

__all__ = ["control_chart_svg", "handover_heatmap_svg", "radar_svg", "status_map_svg", "trend_svg"]

_INK, _MUTED, _ACCENT, _ALARM = "#1f2a37", "#6b7280", "#2563eb", "#dc2626"


def _data(rows: list[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=rows)  # type: ignore[no-untyped-call]


def _render(chart: alt.TopLevelMixin) -> str:
    spec = chart.configure_view(stroke=None).configure_axis(labelColor=_MUTED, titleColor=_MUTED).to_dict()
    svg: str = vlc.vegalite_to_svg(spec)
    return svg


def trend_svg(*, labels: Sequence[str], values: Sequence[float | None], title: str, unit: str) -> str:
    """A small line chart of one sign across periods (months or visits)."""
    rows = [{"period": lab, "value": v} for lab, v in zip(labels, values, strict=True) if v is not None]
    fmt = ".0%" if unit == "ratio" else ",.1f"
    chart = (
        alt.Chart(_data(rows), title=alt.TitleParams(title, fontSize=11, anchor="start", color=_INK))
        .mark_line(point=True, color=_ACCENT)
        .encode(
            x=alt.X("period:O", title=None, sort=None),
            y=alt.Y("value:Q", title=unit, axis=alt.Axis(format=fmt)),
            tooltip=["period:O", alt.Tooltip("value:Q", format=fmt)],
        )
        .properties(width=260, height=110)
    )
    return _render(chart)


def control_chart_svg(
    chart: Mapping[str, Any], *, title: str, unit: str, adoptions: Sequence[Mapping[str, Any]] = ()
) -> str:
    """An XmR or p-chart: points, centre line, control limits (from the baseline months when
    the chart has one), the signals in red, and a marker at each adoption's month."""
    flagged = {int(s["index"]) for s in chart.get("signals", [])}
    rows = [
        {
            "period": lab,
            "value": v,
            "lower": lo,
            "upper": up,
            "center": chart["center"],
            "signal": "out of control" if i in flagged else "in control",
        }
        for i, (lab, v, lo, up) in enumerate(
            zip(chart["labels"], chart["values"], chart["lower"], chart["upper"], strict=True)
        )
    ]
    fmt = ".0%" if unit == "ratio" else ",.1f"
    base = alt.Chart(_data(rows)).encode(x=alt.X("period:O", title=None, sort=None))
    limits = base.mark_line(strokeDash=[4, 3], color=_MUTED).encode(y="upper:Q") + base.mark_line(
        strokeDash=[4, 3], color=_MUTED
    ).encode(y="lower:Q")
    center = base.mark_line(color=_MUTED).encode(y="center:Q")
    line = base.mark_line(color=_ACCENT).encode(y=alt.Y("value:Q", title=unit, axis=alt.Axis(format=fmt)))
    points = base.mark_point(filled=True, size=40).encode(
        y="value:Q",
        color=alt.Color(
            "signal:N",
            scale=alt.Scale(domain=["in control", "out of control"], range=[_ACCENT, _ALARM]),
            legend=alt.Legend(title=None, orient="bottom"),
        ),
    )
    layers = [limits, center, line, points]
    # the label names the date, not the prescription: the title is in the table above and would overrun the chart
    marks = [{"period": a["label"], "what": f"adopted {a.get('since', '')}"} for a in adoptions if a.get("label")]
    if marks:
        rule = alt.Chart(_data(marks)).encode(x=alt.X("period:O", sort=None))
        layers += [
            rule.mark_rule(color=_INK, strokeDash=[2, 2]),
            rule.mark_text(align="right", dx=-3, dy=55, fontSize=9, color=_INK).encode(text="what:N"),
        ]
    if chart.get("baseline"):
        title = f"{title} · limits from the {chart['baseline']} months before the adoption"
    layered = alt.layer(*layers).properties(
        width=300, height=130, title=alt.TitleParams(title, fontSize=11, anchor="start", color=_INK)
    )
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
