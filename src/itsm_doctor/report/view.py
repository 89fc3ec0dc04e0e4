"""The report's view model: the examination JSON (and follow-up) shaped for reading.

Templates only display; every choice of order, grouping and number format is made here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from itsm_doctor.report.charts import control_chart_svg, handover_heatmap_svg, radar_svg, status_map_svg, trend_svg

__all__ = ["AREAS", "SPHERES", "STATUS_ORDER", "format_effect", "format_p", "format_value", "report_view"]

AREAS = ("compliance", "quality", "performance", "value")
SPHERES = ("team", "department", "enterprise")
STATUS_ORDER = ("new", "assigned", "in_progress", "pending", "resolved", "closed", "cancelled")
_VERDICT_RANK = {"present": 0, "possible": 1, "undetermined": 2, "absent": 3}
_EFFORT_RANK = {"low": 0, "small": 0, "medium": 1, "high": 2, "large": 2}


def format_p(p: float | None) -> str:
    """A p-value for people: 3 significant digits; one too small for a float shows as < 1e-300."""
    if p is None:
        return "n/a"
    return "< 1e-300" if p == 0 else f"{p:.3g}"


def format_value(value: Any, unit: str | None) -> str:
    """A sign value as people read it: shares in %, hours (days past two days), counts."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if not isinstance(value, int | float):
        return str(value)
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "h":
        return f"{value / 24:,.1f} d" if abs(value) >= 48 else f"{value:,.1f} h"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _band(sign: Mapping[str, Any]) -> tuple[str, str]:
    bench = sign.get("benchmark") or {}
    unit = sign.get("unit")
    good, poor = bench.get("good"), bench.get("poor")
    if good is None and poor is None:
        return "—", str(bench.get("source") or "no published benchmark")
    return f"{format_value(good, unit)} / {format_value(poor, unit)}", str(bench.get("source") or "")


def _sign_rows(signs: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    grouped: dict[str, list[dict[str, Any]]] = {a: [] for a in AREAS}
    for s in signs:
        band, source = _band(s)
        status = str(s.get("status") or "n/a")
        grouped.setdefault(str(s.get("area") or "other"), []).append(
            {
                "id": s["id"],
                "name": s.get("name") or s["id"],
                "shown": format_value(s.get("value"), s.get("unit")),
                "status": status,
                "status_class": "na" if status == "n/a" else status,
                "band": band,
                "source": source,
                # why n/a, else how the value was reached (e.g. the extract window measured)
                "reason": s.get("reason") or s.get("note"),
                "examples": list(s.get("examples") or [])[:5],
            }
        )
    return [(area, rows) for area, rows in grouped.items() if rows]


def _monthly_trends(signs: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """A small chart per sign that has a month breakdown with at least three months."""
    out: dict[str, list[str]] = {}
    for s in signs:
        month = (s.get("breakdowns") or {}).get("month")
        if not isinstance(month, Mapping) or len(month) < 3:
            continue
        labels = sorted(month)
        values = [_headline(month[m]) for m in labels]
        if sum(v is not None for v in values) < 3:
            continue
        chart = trend_svg(labels=labels, values=values, title=str(s.get("name") or s["id"]), unit=str(s.get("unit")))
        out.setdefault(str(s.get("area")), []).append(chart)
    return out


def _headline(cell: Any) -> float | None:
    if isinstance(cell, Mapping):
        cell = cell.get("value")
    return float(cell) if isinstance(cell, int | float) and not math.isnan(float(cell)) else None


def _diagnoses(diagnoses: Sequence[Mapping[str, Any]], signs_by_id: Mapping[str, Mapping[str, Any]]) -> list[Any]:
    rows = []
    for d in sorted(diagnoses, key=lambda d: (_VERDICT_RANK.get(d.get("verdict", ""), 9), -(d.get("likelihood") or 0))):
        evidence = []
        for e in d.get("evidence") or []:
            unit = signs_by_id.get(str(e.get("id")), {}).get("unit") if e.get("kind") == "sign" else None
            evidence.append(
                {
                    "id": e.get("id", ""),
                    "kind": e.get("kind", ""),
                    "supports": bool(e.get("supports")),
                    "shown": format_value(e.get("value"), unit),
                }
            )
        lead = next((e["id"] for e in evidence if e.get("supports")), None)
        rows.append(
            {
                "id": d.get("id", ""),
                "name": d.get("name") or d.get("id", ""),
                "verdict": d.get("verdict", "undetermined"),
                "likelihood": float(d.get("likelihood") or 0.0),
                "evidence": evidence,
                "lead": lead,
                "causes": [
                    {"name": c.get("name") or c.get("id"), "likelihood": float(c.get("likelihood") or 0.0)}
                    for c in list(d.get("causes") or [])[:3]
                ],
            }
        )
    return rows


def _prescriptions(prescriptions: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {s: [] for s in SPHERES}
    for p in prescriptions:
        row = {
            "title": p.get("title") or p.get("id", ""),
            "dysfunction": p.get("dysfunction", ""),
            "practice": p.get("practice", ""),
            "effort": p.get("effort", ""),
            "moves": list(p.get("moves") or []),
            "follow_up_days": p.get("follow_up_days", ""),
        }
        grouped.setdefault(str(p.get("sphere") or "department"), []).append(row)
    return [(s, items) for s, items in grouped.items() if items]


def _maturity(maturity: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not maturity:
        return None
    practices = maturity.get("practices", maturity)
    levels = {
        str(p): {"self": v.get("self"), "evidenced": v.get("evidenced")}
        for p, v in practices.items()
        if isinstance(v, Mapping)
    }
    rows = []
    for p, v in levels.items():
        gap = None if v["self"] is None or v["evidenced"] is None else v["self"] - v["evidenced"]
        rows.append({"practice": p.replace("_", " "), "self": v["self"], "evidenced": v["evidenced"], "gap": gap})
    return {"radar": radar_svg(levels), "rows": rows}


def _followup(followup: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not followup:
        return None
    effects = []
    for e in followup.get("effects") or []:
        unit = e.get("unit")
        effects.append(
            {
                "title": e.get("title") or e.get("prescription"),
                "sign": e.get("sign"),
                "before": format_value(e.get("before"), unit),
                "after": format_value(e.get("after"), unit),
                "expected": format_value(e.get("expected"), unit),
                "effect": format_effect(e),
                "p": format_p(e["p_adjusted"] if "p_adjusted" in e else e.get("p_value")),
                "test": e.get("test"),
                "verdict": e.get("verdict"),
                "confidence": e.get("confidence"),
                "why": _reasoning(e),
            }
        )
    charts = [
        control_chart_svg(
            c["chart"],
            title=str(c.get("title") or c.get("sign")),
            unit=str(c.get("unit")),
            adoptions=c.get("adoptions") or (),
        )
        for c in followup.get("control_charts") or []
    ]
    charts += [
        trend_svg(
            labels=t["labels"], values=t["values"], title=str(t.get("title") or t.get("sign")), unit=str(t.get("unit"))
        )
        for t in followup.get("trends") or []
        if len(t.get("labels") or []) >= 2
    ]
    return {"effects": effects, "charts": charts, "correction": (followup.get("correction") or {}).get("note")}


def format_effect(e: Mapping[str, Any]) -> str:
    """An effect with its 95 % interval as people read it: a relative change for durations,
    percentage points for shares, else in the sign's unit."""
    effect, interval = e.get("effect"), e.get("interval")
    if effect is None or not interval:
        return "n/a"
    if e.get("effect_scale") == "relative":
        return f"{effect:+.0%} [{interval[0]:+.0%}, {interval[1]:+.0%}]"
    unit = e.get("unit")
    if unit == "ratio":
        return f"{effect * 100:+.1f} pts [{interval[0] * 100:+.1f}, {interval[1] * 100:+.1f}]"
    return f"{format_value(effect, unit)} [{format_value(interval[0], unit)}, {format_value(interval[1], unit)}]"


def _reasoning(e: Mapping[str, Any]) -> list[str]:
    """How the verdict was reached, in the order it was: cohorts, trend, control, reading."""
    lines = []
    cohorts = e.get("cohorts") or {}
    if cohorts:
        lines.append(
            f"cohorts cut to equal observation: {cohorts.get('judged_before', 0):,} tickets before and "
            f"{cohorts.get('judged_after', 0):,} after, each observed {cohorts.get('horizon_days', 0):g} days; "
            f"{cohorts.get('too_young', 0):,} too young to judge, {cohorts.get('unsettled', 0):,} not settled "
            "within the horizon"
        )
    model = e.get("model") or {}
    if model:
        unit = e.get("unit")
        lines.append(
            f"trend over the {model.get('window_weeks')} weeks before: {format_value(e.get('expected'), unit)} "
            f"expected after, {format_value(e.get('after'), unit)} seen"
            + (" (season modelled)" if model.get("season") else "")
        )
    lines += [str(r) for r in e.get("reasons") or [] if not (cohorts and "too young to judge" in str(r))]
    if e.get("reading"):
        lines.append(str(e["reading"]))
    return lines


def report_view(
    examination: Mapping[str, Any],
    *,
    followup: Mapping[str, Any] | None = None,
    version: str,
) -> dict[str, Any]:
    """Everything the report template shows, computed from the examination JSON."""
    signs = list(examination.get("signs") or [])
    signs_by_id = {str(s["id"]): s for s in signs}
    diagnoses = _diagnoses(examination.get("diagnoses") or [], signs_by_id)
    process = examination.get("process") or {}
    records = examination.get("records") or {}
    return {
        "version": version,
        "patient": examination.get("patient") or "patient",
        "visit": examination.get("visit") or {},
        "counts": {
            "present": sum(d.get("verdict") == "present" for d in diagnoses),
            "possible": sum(d.get("verdict") == "possible" for d in diagnoses),
            "poor": sum(s.get("status") == "poor" for s in signs),
            "tickets": int(records.get("ticket") or 0),
        },
        "top": [d for d in diagnoses if d.get("verdict") in ("present", "possible")][:5],
        "diagnoses": diagnoses,
        "prescriptions": _prescriptions(examination.get("prescriptions") or []),
        "signs": _sign_rows(signs),
        "trends": _monthly_trends(signs),
        "status_map": status_map_svg(process.get("status_dfg") or [], order=STATUS_ORDER),
        "handovers": handover_heatmap_svg(process.get("handovers") or []) if process.get("handovers") else "",
        "maturity": _maturity(examination.get("maturity")),
        "followup": _followup(followup),
        "intake": list(examination.get("intake") or []),
        "assumptions": list(examination.get("assumptions") or []),
    }
