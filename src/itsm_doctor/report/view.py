"""The report's view model: the examination JSON (and follow-up) shaped for reading.

Templates only display; every choice of order, grouping and number format is made here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from itsm_doctor.report.charts import handover_heatmap_svg, radar_svg, status_map_svg, trend_svg
from itsm_doctor.report.effects import format_effect, reasoning
from itsm_doctor.report.plots import control_charts, in_days, monthly_trends, no_chart_reason, visit_label
from itsm_doctor.report.words import format_p, format_value

__all__ = [
    "AREAS",
    "SPHERES",
    "STATUS_ORDER",
    "format_effect",
    "format_p",
    "format_value",
    "report_view",
    "verdict_words",
]

AREAS = ("compliance", "quality", "performance", "value")
SPHERES = ("team", "department", "enterprise")
STATUS_ORDER = ("new", "assigned", "in_progress", "pending", "resolved", "closed", "cancelled")
_VERDICT_RANK = {"present": 0, "possible": 1, "undetermined": 2, "absent": 3}
_EFFORT_RANK = {"low": 0, "small": 0, "medium": 1, "high": 2, "large": 2}


def _band(sign: Mapping[str, Any]) -> tuple[list[str], str, bool]:
    """The band as people read it (["good ≤ 5.0%", "poor ≥ 15.0%"]), what it rests on, and
    whether it is a working band (no published benchmark behind it; the source then says
    what the band was set from, without the "no published benchmark" preamble)."""
    bench = sign.get("benchmark") or {}
    unit = sign.get("unit")
    good, poor = bench.get("good"), bench.get("poor")
    source = str(bench.get("source") or "")
    working = not source or source.casefold().startswith("no published")
    if good is None and poor is None:
        return ["—"], source or "no published benchmark", False
    if working:
        source = re.sub(r"^no published (benchmark|norm)( verified)?;?\s*", "", source, flags=re.IGNORECASE)
        source = re.sub(r";?\s*ITSM Doctor working band$", "", source).strip()
    better, worse = ("≥", "≤") if sign.get("direction") == "higher" else ("≤", "≥")
    band = [f"good {better} {format_value(good, unit)}", f"poor {worse} {format_value(poor, unit)}"]
    return band, source, working


def _sign_rows(
    signs: Sequence[Mapping[str, Any]], no_chart: Mapping[str, str]
) -> list[tuple[str, list[dict[str, Any]]]]:
    grouped: dict[str, list[dict[str, Any]]] = {a: [] for a in AREAS}
    for s in signs:
        band, source, working = _band(s)
        status = str(s.get("status") or "n/a")
        grouped.setdefault(str(s.get("area") or "other"), []).append(
            {
                "id": s["id"],
                "name": s.get("name") or s["id"],
                "shown": format_value(s.get("value"), s.get("unit")),
                "status": status,
                "status_class": "na" if status == "n/a" else status,
                "band": band,
                "working_band": working,
                "source": source,
                # why n/a, else how the value was reached (e.g. the extract window measured)
                "reason": s.get("reason") or s.get("note"),
                "no_chart": no_chart.get(str(s["id"])),
                "examples": list(s.get("examples") or [])[:5],
            }
        )
    return [(area, rows) for area, rows in grouped.items() if rows]


def verdict_words(verdict: str, *, likelihood: float, supported: bool) -> str:
    """The verdict as a manager reads it: "absent" would read as ruled out, so it says so only
    when nothing points for the dysfunction and its likelihood is below 5 %; otherwise the
    dysfunction is "not indicated" (the evidence falls short of possible)."""
    if verdict == "absent":
        return "ruled out" if not supported and likelihood < 0.05 else "not indicated"
    if verdict == "undetermined":
        return "undetermined: not measurable on these records"
    return verdict


def _reconcile(dysfunction: str, effects: Sequence[Mapping[str, Any]]) -> str | None:
    """How the diagnosis and the follow-up of its adopted prescriptions read together."""
    mine = [e for e in effects if e.get("dysfunction") == dysfunction]
    if not mine:
        return None
    verdicts = [str(e.get("verdict")) for e in mine]
    since = min(str(e.get("since") or "") for e in mine) or "its adoption"
    healing = verdicts.count("healing")
    if "relapsing" in verdicts:
        trend = "worsening since the remedy"
    elif healing == len(verdicts):
        trend = "improving since the remedy"
    elif healing:
        trend = "partly improving since the remedy"
    else:
        trend = "no effect of the remedy yet"
    return f"{trend} (adopted {since}; {healing} of {len(verdicts)} signs healing)"


# The signs only follow-up measures (followup.compare.followup_signs) reach the diagnosis
# without a name or a place in the examination's signs: their names and units for reading.
_FOLLOWUP_SIGNS: dict[str, dict[str, str]] = {
    "followup.improved_share": {"name": "Troubled signs improved since the first visit", "unit": "ratio"},
    "followup.register_done_share": {"name": "Adopted prescriptions completed", "unit": "ratio"},
    "followup.maturity_gap": {"name": "Maturity gap (self-assessed − evidenced)", "unit": "count"},
}


@cache
def _statements() -> dict[str, str]:
    """Symptom statements by id: a symptom's evidence reads as what people said."""
    try:
        from itsm_doctor.assessment.bank import load_symptom_bank
    except ImportError:  # pragma: no cover - the assessment ships with the package
        return {}
    return {s.id: s.statement for s in load_symptom_bank().statements}


def _evidence_source(e: Mapping[str, Any], signs_by_id: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    key = str(e.get("id"))
    if e.get("kind") == "symptom":
        statement = _statements().get(key)
        return {"name": f"“{statement}”"} if statement else {}
    return signs_by_id.get(key) or _FOLLOWUP_SIGNS.get(key, {})


def _diagnoses(
    diagnoses: Sequence[Mapping[str, Any]],
    signs_by_id: Mapping[str, Mapping[str, Any]],
    effects: Sequence[Mapping[str, Any]],
) -> list[Any]:
    rows = []
    for d in sorted(diagnoses, key=lambda d: (_VERDICT_RANK.get(d.get("verdict", ""), 9), -(d.get("likelihood") or 0))):
        evidence = []
        for e in d.get("evidence") or []:
            sign = _evidence_source(e, signs_by_id)
            evidence.append(
                {
                    "id": e.get("id", ""),
                    "name": sign.get("name") or e.get("id", ""),
                    "kind": e.get("kind", ""),
                    "supports": bool(e.get("supports")),
                    "shown": format_value(e.get("value"), sign.get("unit")),
                }
            )
        lead = next((e for e in evidence if e["supports"]), None)
        verdict = str(d.get("verdict", "undetermined"))
        likelihood = float(d.get("likelihood") or 0.0)
        found = verdict in ("present", "possible")
        rows.append(
            {
                "id": d.get("id", ""),
                "name": d.get("name") or d.get("id", ""),
                "verdict": verdict,
                "words": verdict_words(verdict, likelihood=likelihood, supported=lead is not None),
                "likelihood": likelihood,
                "evidence": evidence,
                "lead": f"{lead['name']} {lead['shown']}" if lead else None,
                "followup": _reconcile(str(d.get("id", "")), effects),
                # what the dysfunction reads but these records cannot give: it lowers confidence
                "missing": [
                    str(_evidence_source(m, signs_by_id).get("name") or m.get("id"))
                    + (f" ({m['reason']})" if m.get("reason") else "")
                    for m in d.get("missing") or []
                ],
                # causes of a dysfunction not found would only list zeros
                "causes": [
                    {"name": c.get("name") or c.get("id"), "likelihood": float(c.get("likelihood") or 0.0)}
                    for c in list(d.get("causes") or [])[:3]
                    if found and (c.get("likelihood") or 0) > 0
                ],
            }
        )
    return rows


def _prescriptions(
    prescriptions: Sequence[Mapping[str, Any]],
    signs_by_id: Mapping[str, Mapping[str, Any]],
    dysfunctions: Mapping[str, str],
) -> list[tuple[str, list[Mapping[str, Any]]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {s: [] for s in SPHERES}
    for p in prescriptions:
        row = {
            "id": p.get("id", ""),
            "title": p.get("title") or p.get("id", ""),
            "dysfunction": dysfunctions.get(str(p.get("dysfunction")), str(p.get("dysfunction", ""))),
            "practice": p.get("practice", ""),
            "effort": p.get("effort", ""),
            "moves": [str(signs_by_id.get(str(m), {}).get("name") or m) for m in p.get("moves") or []],
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


def _visits_table(
    visits: Sequence[Mapping[str, Any]], followup: Mapping[str, Any], signs_by_id: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The signs that moved by 5 % or more across visits, first → last, by name, headed by
    each visit's period; and how many others held steady."""
    if len(visits) < 2:
        return None
    rows, steady = [], 0
    for t in followup.get("trends") or []:
        known = [v for v in t.get("values") or [] if v is not None]
        if len(known) < 2:
            continue
        first, last = known[0], known[-1]
        if abs(last - first) < 0.05 * max(abs(first), abs(last)) or first == last:
            steady += 1
            continue
        unit = t.get("unit")
        rows.append(
            {
                "name": str(signs_by_id.get(str(t.get("sign")), {}).get("name") or t.get("title") or t.get("sign")),
                "first": format_value(first, unit),
                "last": format_value(last, unit),
            }
        )
    rows.sort(key=lambda r: r["name"].casefold())
    return {"first": visit_label(visits[0]), "last": visit_label(visits[-1]), "rows": rows, "steady": steady}


def _followup(
    followup: Mapping[str, Any] | None,
    signs_by_id: Mapping[str, Mapping[str, Any]],
    visits: Sequence[Mapping[str, Any]],
    draw: bool,
) -> dict[str, Any] | None:
    if not followup:
        return None
    effects = []
    for e in followup.get("effects") or []:
        unit = e.get("unit")
        effects.append(
            {
                "title": e.get("title") or e.get("prescription"),
                "prescription": e.get("prescription", ""),
                "since": e.get("since") or "",
                "sign": str(signs_by_id.get(str(e.get("sign")), {}).get("name") or e.get("sign")),
                "sign_id": str(e.get("sign") or ""),
                "before": format_value(e.get("before"), unit),
                "after": format_value(e.get("after"), unit),
                "expected": format_value(e.get("expected"), unit),
                "effect": format_effect(e),
                "reading": str(e.get("reading") or ""),
                "p": format_p(e["p_adjusted"] if "p_adjusted" in e else e.get("p_value")),
                "test": e.get("test"),
                "verdict": e.get("verdict"),
                "confidence": e.get("confidence"),
                "why": reasoning(e),
            }
        )
    charts, skipped = control_charts(followup, signs_by_id, draw=draw)
    trends = []
    labels = [visit_label(v) for v in visits] if len(visits) == len(followup.get("visits") or visits) else None
    for t in followup.get("trends") or []:
        sign = signs_by_id.get(str(t.get("sign")), {})
        points = labels or list(t.get("labels") or [])
        values = [None if v is None else float(v) for v in t.get("values") or []]
        if len(points) != len(values) or no_chart_reason(headline=None, labels=points, values=values):
            continue  # fewer than three visits: the table across visits says it instead
        name = str(sign.get("name") or t.get("title") or t.get("sign"))
        unit = str(t.get("unit"))
        days = in_days(sign.get("value"), unit)
        svg = trend_svg(labels=points, values=values, title=name, unit=unit, days=days) if draw else ""
        trends.append({"sign": str(t.get("sign")), "name": name, "svg": svg})
    return {
        "effects": effects,
        "charts": charts,
        "skipped": skipped,
        "trends": trends,
        "across": _visits_table(visits, followup, signs_by_id),
        "correction": (followup.get("correction") or {}).get("note"),
    }


def _roles(roles: Mapping[str, Any] | None) -> str | None:
    """Where the support tiers come from, in one sentence (inferred tiers are shown so that a
    reader can correct them with --roles)."""
    if not roles or not roles.get("source"):
        return None
    front = ", ".join(str(g) for g in list(roles.get("front_line") or [])[:5])
    said = f"Support tiers: {roles['source']}"
    if roles.get("basis"):
        said += f" ({roles['basis']})"
    return said + (f"; front line: {front}" if front else "") + "."


def report_view(
    examination: Mapping[str, Any],
    *,
    followup: Mapping[str, Any] | None = None,
    visits: Sequence[Mapping[str, Any]] = (),
    version: str,
    charts: bool = True,
) -> dict[str, Any]:
    """Everything the template shows, computed from the examination JSON, the follow-up and
    the examinations of every visit (oldest first; they date the trends across visits); without
    ``charts`` no SVG is drawn (the Markdown report has none)."""
    signs = list(examination.get("signs") or [])
    signs_by_id = {str(s["id"]): s for s in signs}
    effects = list((followup or {}).get("effects") or [])
    diagnoses = _diagnoses(examination.get("diagnoses") or [], signs_by_id, effects)
    dysfunctions = {str(d["id"]): str(d["name"]) for d in diagnoses}
    process = examination.get("process") or {}
    records = examination.get("records") or {}
    trends, no_chart = monthly_trends(signs, draw=charts)
    return {
        "version": version,
        "patient": examination.get("patient") or "patient",
        "visit": examination.get("visit") or {},
        "period": visit_label(examination),
        "counts": {
            "present": sum(d.get("verdict") == "present" for d in diagnoses),
            "possible": sum(d.get("verdict") == "possible" for d in diagnoses),
            "poor": sum(s.get("status") == "poor" for s in signs),
            "tickets": int(records.get("ticket") or 0),
        },
        "top": [d for d in diagnoses if d.get("verdict") in ("present", "possible")][:5],
        "diagnoses": diagnoses,
        "prescriptions": _prescriptions(examination.get("prescriptions") or [], signs_by_id, dysfunctions),
        "signs": _sign_rows(signs, no_chart),
        "trends": trends,
        "status_map": status_map_svg(process.get("status_dfg") or [], order=STATUS_ORDER) if charts else "",
        "handovers": handover_heatmap_svg(process.get("handovers") or [])
        if charts and process.get("handovers")
        else "",
        "maturity": _maturity(examination.get("maturity")) if charts else None,
        "followup": _followup(followup, signs_by_id, list(visits) or [examination], draw=charts),
        "intake": list(examination.get("intake") or []),
        "roles": _roles(examination.get("roles")),
        "assumptions": list(examination.get("assumptions") or []),
    }
