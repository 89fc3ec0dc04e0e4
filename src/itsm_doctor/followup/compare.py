"""Comparing visits: each sign's trend across visits, monthly control charts within the
records, and the before/after effect of every adopted prescription on its target signs.

The before/after test needs the sign's value per ticket (1/0 for a share, hours for a
duration) with the time the ticket was opened; the caller supplies them through
``TicketValues`` (the examination computes them on the engine), so this module stays pure
statistics over plain data and runs the same for DuckDB and Spark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from itsm_doctor.followup.effect import duration_effect, rate_effect
from itsm_doctor.followup.spc import p_chart, xmr_chart

__all__ = [
    "MIN_TICKETS",
    "AdoptedPrescription",
    "TicketValues",
    "control_charts",
    "followup",
    "followup_signs",
    "sign_trends",
]

# (opened_at, value) per ticket for a sign id, or None when the sign is n/a on these records.
TicketValues = Callable[[str], Sequence[tuple[datetime, float]] | None]
MIN_TICKETS = 20  # fewer tickets on either side: no test, "no effect yet"
MIN_MONTHS = 3


@dataclass(frozen=True, kw_only=True)
class AdoptedPrescription:
    """A register entry as follow-up needs it."""

    prescription_id: str
    title: str
    dysfunction_id: str
    since: date
    target_signs: Sequence[Mapping[str, str]]  # [{"id": sign id, "direction": "down" | "up"}]
    status: str = "adopted"


def sign_trends(visits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One series per sign across visits (oldest first), with the change first → last."""
    labels = [str((v.get("visit") or {}).get("at", ""))[:10] for v in visits]
    series: dict[str, dict[str, Any]] = {}
    for i, v in enumerate(visits):
        for s in v.get("signs") or []:
            entry = series.setdefault(
                str(s["id"]),
                {
                    "sign": s["id"],
                    "title": s.get("name") or s["id"],
                    "unit": s.get("unit"),
                    "direction": s.get("direction"),
                    "labels": labels,
                    "values": [None] * len(visits),
                },
            )
            value = s.get("value")
            entry["values"][i] = float(value) if isinstance(value, int | float) else None
    out = []
    for entry in series.values():
        known = [x for x in entry["values"] if x is not None]
        entry["change"] = known[-1] - known[0] if len(known) >= 2 else None
        out.append(entry)
    return sorted(out, key=lambda e: str(e["sign"]))


def control_charts(signs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A p-chart (shares with a ticket count per month) or an XmR chart per sign with a
    monthly breakdown of at least three months."""
    charts = []
    for s in signs:
        month = (s.get("breakdowns") or {}).get("month")
        if not isinstance(month, Mapping) or len(month) < MIN_MONTHS:
            continue
        labels = sorted(month)
        cells = [month[m] for m in labels]
        values = [c.get("value") if isinstance(c, Mapping) else c for c in cells]
        counts = [c.get("n") if isinstance(c, Mapping) else None for c in cells]
        if any(not isinstance(v, int | float) for v in values):
            continue
        is_share = all(0.0 <= float(v) <= 1.0 for v in values)  # type: ignore[arg-type]
        if s.get("unit") == "ratio" and is_share and all(isinstance(n, int) and n > 0 for n in counts):
            successes = [round(float(v) * int(n)) for v, n in zip(values, counts, strict=True)]  # type: ignore[arg-type]
            chart = p_chart(successes, [int(n) for n in counts], labels=labels)  # type: ignore[arg-type]
        else:
            chart = xmr_chart([float(v) for v in values], labels=labels)  # type: ignore[arg-type]
        charts.append(
            {
                "sign": s["id"],
                "title": f"{s.get('name') or s['id']} by month",
                "unit": s.get("unit"),
                "chart": chart.as_json(),
            }
        )
    return charts


def _effect(
    rx: AdoptedPrescription, target: Mapping[str, str], values: Sequence[tuple[datetime, float]], unit: str | None
) -> dict[str, Any]:
    cut = datetime.combine(rx.since, time.min, tzinfo=UTC)
    before = [v for t, v in values if _aware(t) < cut]
    after = [v for t, v in values if _aware(t) >= cut]
    base = {
        "prescription": rx.prescription_id,
        "title": rx.title,
        "dysfunction": rx.dysfunction_id,
        "sign": target["id"],
        "unit": unit,
        "since": rx.since.isoformat(),
        "wanted": target["direction"],
    }
    if len(before) < MIN_TICKETS or len(after) < MIN_TICKETS:
        return {
            **base,
            "before": None,
            "after": None,
            "n_before": len(before),
            "n_after": len(after),
            "p_value": None,
            "test": f"not tested: fewer than {MIN_TICKETS} tickets on one side",
            "verdict": "no_effect_yet",
        }
    if unit == "ratio":
        effect = rate_effect(
            before=(round(sum(before)), len(before)), after=(round(sum(after)), len(after)), wanted=target["direction"]
        )
    else:
        effect = duration_effect(before=before, after=after, wanted=target["direction"])
    return {**base, **effect.as_json()}


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def followup(
    *,
    visits: Sequence[Mapping[str, Any]],
    register: Sequence[AdoptedPrescription] = (),
    ticket_values: TicketValues | None = None,
) -> dict[str, Any]:
    """The follow-up of a patient: trends across ``visits`` (oldest first), control charts of
    the latest visit, and the effect of each adopted prescription on each target sign."""
    if not visits:
        raise ValueError("follow-up needs at least one visit")
    latest = visits[-1]
    units = {str(s["id"]): s.get("unit") for s in latest.get("signs") or []}
    effects = []
    for rx in register:
        if rx.status == "abandoned":
            continue
        for target in rx.target_signs:
            values = ticket_values(target["id"]) if ticket_values else None
            if values is None:
                effects.append(
                    {
                        "prescription": rx.prescription_id,
                        "title": rx.title,
                        "sign": target["id"],
                        "unit": units.get(target["id"]),
                        "p_value": None,
                        "before": None,
                        "after": None,
                        "test": "not tested: the sign is n/a on these records",
                        "verdict": "no_effect_yet",
                    }
                )
                continue
            effects.append(_effect(rx, target, values, units.get(target["id"])))
    return {
        "schema": "itsm-doctor/followup/1",
        "visits": [{"id": (v.get("visit") or {}).get("id"), "at": (v.get("visit") or {}).get("at")} for v in visits],
        "trends": sign_trends(visits),
        "control_charts": control_charts(latest.get("signs") or []),
        "effects": effects,
    }


def followup_signs(
    *,
    first_visit: Mapping[str, Any],
    current_signs: Sequence[Mapping[str, Any]],
    register_statuses: Sequence[str] = (),
    maturity_gap: float | None = None,
) -> list[dict[str, Any]]:
    """The signs only follow-up can measure (ids ``followup.*``, used by stagnant improvement):
    the share of the first visit's fair or poor signs that improved by at least 10 % in their
    better direction; the share of adopted prescriptions completed; the mean maturity gap."""
    now = {str(s["id"]): s for s in current_signs}
    troubled = [s for s in first_visit.get("signs") or [] if s.get("status") in ("fair", "poor")]
    moved = []
    for s in troubled:
        before, after = s.get("value"), (now.get(str(s["id"])) or {}).get("value")
        if not isinstance(before, int | float) or not isinstance(after, int | float) or before == 0:
            continue
        change = (after - before) / abs(before)
        moved.append((-change if s.get("direction") == "lower" else change) >= 0.10)
    live = [st for st in register_statuses if st != "abandoned"]
    values: dict[str, float | None] = {
        "followup.improved_share": sum(moved) / len(moved) if moved else None,
        "followup.register_done_share": sum(st == "done" for st in live) / len(live) if live else None,
        "followup.maturity_gap": maturity_gap,
    }
    return [
        {
            "id": k,
            "value": v,
            "unit": "ratio" if k != "followup.maturity_gap" else "count",
            "status": "n/a" if v is None else "measured",
        }
        for k, v in values.items()
    ]
