"""Comparing visits: each sign's trend across visits, monthly control charts within the
records (limits on the months before an adoption, the adoption marked), and the effect of
every adopted prescription on its target signs.

The effect needs the sign's value per ticket (1/0 for a share, hours for a duration) with the
time the ticket was opened, settled and the group that owns it; the caller supplies them
through ``TicketValues`` (the examination computes them on the engine), so this module stays
pure statistics over plain data and runs the same for DuckDB and Spark. How each effect is
judged (equal observation, interrupted time series, control, Holm) is in ``judge``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from itsm_doctor.followup.cohort import TicketValue
from itsm_doctor.followup.effect import ALPHA
from itsm_doctor.followup.judge import MIN_TICKETS, Judgement, conclude, judge_sign
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

# Per ticket for a sign id, or None when the sign is n/a on these records: ``TicketValue``s,
# or bare (opened_at, value) pairs when the records cannot say when tickets settled.
TicketValues = Callable[[str], Sequence[TicketValue | tuple[datetime, float]] | None]
MIN_MONTHS = 3
MIN_BASELINE = 3  # months before the adoption for limits on the baseline alone


@dataclass(frozen=True, kw_only=True)
class AdoptedPrescription:
    """A register entry as follow-up needs it."""

    prescription_id: str
    title: str
    dysfunction_id: str
    since: date
    target_signs: Sequence[Mapping[str, str]]  # [{"id": sign id, "direction": "down" | "up"}]
    status: str = "adopted"
    sphere: str = "department"
    groups: Sequence[str] = ()  # the team's groups, for a team-sphere prescription


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


def _adoptions(register: Sequence[AdoptedPrescription]) -> dict[str, list[AdoptedPrescription]]:
    by_sign: dict[str, list[AdoptedPrescription]] = {}
    for rx in register:
        if rx.status == "abandoned":
            continue
        for t in rx.target_signs:
            by_sign.setdefault(str(t["id"]), []).append(rx)
    return by_sign


def control_charts(
    signs: Sequence[Mapping[str, Any]], *, register: Sequence[AdoptedPrescription] = ()
) -> list[dict[str, Any]]:
    """A p-chart (shares with a ticket count per month) or an XmR chart per sign with a
    monthly breakdown of at least three months. On a sign an adopted prescription should
    move, the limits come from the months before the first adoption (the baseline) when
    there are at least three of them, and each adoption is listed with the month it falls in."""
    adopted = _adoptions(register)
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
        marks = [
            {"since": rx.since.isoformat(), "label": rx.since.strftime("%Y-%m"), "title": rx.title}
            for rx in sorted(adopted.get(str(s["id"]), ()), key=lambda rx: rx.since)
        ]
        first = marks[0]["label"] if marks else None
        base = sum(label < first for label in labels) if first else 0
        baseline = base if base >= MIN_BASELINE and base < len(labels) else None
        is_share = all(0.0 <= float(v) <= 1.0 for v in values)  # type: ignore[arg-type]
        if s.get("unit") == "ratio" and is_share and all(isinstance(n, int) and n > 0 for n in counts):
            successes = [round(float(v) * int(n)) for v, n in zip(values, counts, strict=True)]  # type: ignore[arg-type]
            chart = p_chart(successes, [int(n) for n in counts], labels=labels, baseline=baseline)  # type: ignore[arg-type]
        else:
            chart = xmr_chart([float(v) for v in values], labels=labels, baseline=baseline)  # type: ignore[arg-type]
        entry: dict[str, Any] = {
            "sign": s["id"],
            "title": f"{s.get('name') or s['id']} by month",
            "unit": s.get("unit"),
            "chart": chart.as_json(),
            "adoptions": marks,
        }
        if marks:
            entry["limits"] = (
                f"from the {baseline} months before {first}"
                if baseline
                else f"from all months: fewer than {MIN_BASELINE} months before {first}"
            )
        charts.append(entry)
    return charts


def _tickets(values: Sequence[TicketValue | tuple[datetime, float]]) -> list[TicketValue]:
    return [v if isinstance(v, TicketValue) else TicketValue(opened_at=v[0], value=float(v[1])) for v in values]


def followup(
    *,
    visits: Sequence[Mapping[str, Any]],
    register: Sequence[AdoptedPrescription] = (),
    ticket_values: TicketValues | None = None,
) -> dict[str, Any]:
    """The follow-up of a patient: trends across ``visits`` (oldest first), control charts of
    the latest visit, and the effect of each adopted prescription on each target sign (the
    visit's effects form one family for the multiple-comparison correction)."""
    if not visits:
        raise ValueError("follow-up needs at least one visit")
    latest = visits[-1]
    signs = {str(s["id"]): s for s in latest.get("signs") or []}
    cache: dict[str, list[TicketValue] | None] = {}
    judged: list[tuple[AdoptedPrescription, Judgement]] = []
    for rx in register:
        if rx.status == "abandoned":
            continue
        for target in rx.target_signs:
            sign_id = str(target["id"])
            if sign_id not in cache:
                raw = ticket_values(sign_id) if ticket_values else None
                cache[sign_id] = None if raw is None else _tickets(raw)
            sign = signs.get(sign_id) or {}
            tickets = cache[sign_id]
            if tickets is None:
                j = Judgement(
                    sign=sign_id,
                    wanted=str(target["direction"]),
                    unit=sign.get("unit"),
                    test="not tested: the sign is n/a on these records"
                    if ticket_values
                    else "not tested: no records here to judge it on",
                    reading="the records cannot show this sign per ticket"
                    if ticket_values
                    else "no records: judge it where the latest visit's records are",
                )
            else:
                good = (sign.get("benchmark") or {}).get("good")
                j = judge_sign(
                    sign=sign_id,
                    wanted=str(target["direction"]),
                    unit=sign.get("unit"),
                    tickets=tickets,
                    since=rx.since,
                    sphere=rx.sphere,
                    groups=rx.groups,
                    good=float(good) if isinstance(good, int | float) else None,
                )
            judged.append((rx, j))
    conclude([j for _rx, j in judged])
    effects = [
        {
            "prescription": rx.prescription_id,
            "title": rx.title,
            "dysfunction": rx.dysfunction_id,
            "since": rx.since.isoformat(),
            "sphere": rx.sphere,
            "sign_name": (signs.get(j.sign) or {}).get("name") or j.sign,
            **j.as_json(),
        }
        for rx, j in judged
    ]
    tested = sum(e["p_value"] is not None for e in effects)
    return {
        "schema": "itsm-doctor/followup/1",
        "visits": [{"id": (v.get("visit") or {}).get("id"), "at": (v.get("visit") or {}).get("at")} for v in visits],
        "trends": sign_trends(visits),
        "control_charts": control_charts(latest.get("signs") or [], register=register),
        "effects": effects,
        "correction": {
            "method": "Holm",
            "tests": tested,
            "alpha": ALPHA,
            "note": f"{tested} tests in this follow-up; each p is adjusted so that the chance of any false "
            f"verdict among them stays below {ALPHA:.0%}",
        },
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
