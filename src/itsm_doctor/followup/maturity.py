"""Maturity evidenced by the records, held against the self-assessment.

For each practice, the level the records support (``None`` when records can never show the
practice, e.g. knowledge management without article links):

1. initial — always granted: the practice may be performed without leaving records;
2. managed — the practice is recorded: at least one of its key signs can be computed;
3. defined — all its key signs can be computed and the work is consistent: lifecycle
   conformance ≥ 0.8 for practices with a ticket lifecycle, and no key sign in the poor band;
4. quantitatively managed — every key sign has a monthly series of ≥ 4 months that is under
   statistical control (XmR chart, no Western Electric signal);
5. optimizing — across at least two visits, a key sign improved by ≥ 10 % in its better
   direction and none got worse by as much.

The gap per practice is self-assessed − evidenced: positive means the organisation rates
itself above what its records show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from itsm_doctor.followup.spc import xmr_chart

__all__ = ["KEY_SIGNS", "EvidencedLevel", "evidenced_maturity", "maturity_gaps"]

# The signs that show each practice in the records (empty: records cannot show it).
KEY_SIGNS: dict[str, tuple[str, ...]] = {
    "service-desk": ("desk.first_contact_resolution", "desk.first_line_only_rate"),
    "incident-management": ("incident.mttr", "incident.reopen_rate", "incident.reassignment_rate"),
    "service-request-management": ("request.fulfilment_time", "request.sla_compliance"),
    "problem-management": ("problem.incident_link_rate", "incident.recurring_rate"),
    "change-enablement": ("change.success_rate", "change.emergency_share"),
    "service-level-management": ("incident.sla_compliance", "incident.wait_user_near_deadline"),
    "service-configuration-management": ("records.completeness",),
    "knowledge-management": (),
    "monitoring-and-event-management": (),
    "relationship-management": ("incident.customer_satisfaction", "incident.survey_response_rate"),
    "supplier-management": (),
    "continual-improvement": (),
}
LIFECYCLE_PRACTICES = frozenset({"service-desk", "incident-management", "service-request-management"})
CONFORMANCE_SIGN = "process.lifecycle_conformance"
CONFORMANCE_DEFINED = 0.8
CONTROL_MONTHS = 4
IMPROVEMENT = 0.10


@dataclass(frozen=True, kw_only=True)
class EvidencedLevel:
    practice: str
    level: int | None
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"practice": self.practice, "level": self.level, "reasons": list(self.reasons)}


def _computed(sign: Mapping[str, Any] | None) -> bool:
    return sign is not None and sign.get("status") != "n/a" and sign.get("value") is not None


def _monthly(sign: Mapping[str, Any]) -> list[float]:
    month = (sign.get("breakdowns") or {}).get("month") or {}
    values = []
    for key in sorted(month):
        cell = month[key]
        cell = cell.get("value") if isinstance(cell, Mapping) else cell
        if isinstance(cell, int | float):
            values.append(float(cell))
    return values


def _better(sign: Mapping[str, Any], first: float, last: float) -> float:
    """Relative change in the sign's better direction (positive = improved)."""
    if first == 0:
        return 0.0
    change = (last - first) / abs(first)
    return change if sign.get("direction") == "higher" else -change


def evidenced_maturity(
    signs: Sequence[Mapping[str, Any]], *, earlier_visits: Sequence[Sequence[Mapping[str, Any]]] = ()
) -> list[EvidencedLevel]:
    """The level per practice the records support; ``earlier_visits`` are older visits' signs."""
    by_id = {str(s["id"]): s for s in signs}
    first_visit = {str(s["id"]): s for s in earlier_visits[0]} if earlier_visits else {}
    result = []
    for practice, keys in KEY_SIGNS.items():
        if not keys:
            result.append(EvidencedLevel(practice=practice, level=None, reasons=("the records cannot show it",)))
            continue
        present = [k for k in keys if _computed(by_id.get(k))]
        if not present:
            result.append(EvidencedLevel(practice=practice, level=1, reasons=("not recorded: no key sign computable",)))
            continue
        level, reasons = 2, [f"recorded: {', '.join(present)}"]
        defined = len(present) == len(keys)
        if not defined:
            reasons.append(f"not computable: {', '.join(k for k in keys if k not in present)}")
        poor = [k for k in present if by_id[k].get("status") == "poor"]
        if poor:
            defined = False
            reasons.append(f"in the poor band: {', '.join(poor)}")
        if practice in LIFECYCLE_PRACTICES:
            conf = by_id.get(CONFORMANCE_SIGN)
            value = conf.get("value") if conf and _computed(conf) else None
            if value is None or float(value) < CONFORMANCE_DEFINED:
                defined = False
                reasons.append(f"lifecycle conformance {value if value is None else f'{float(value):.0%}'} < 80%")
        if defined:
            level = 3
            out_of_control = []
            for k in present:
                series = _monthly(by_id[k])
                if len(series) < CONTROL_MONTHS or not xmr_chart(series).in_control:
                    out_of_control.append(k)
            if out_of_control:
                reasons.append(f"not under statistical control: {', '.join(out_of_control)}")
            else:
                level = 4
                reasons.append("key signs under statistical control")
                changes = [
                    _better(by_id[k], float(first_visit[k]["value"]), float(by_id[k]["value"]))
                    for k in present
                    if _computed(first_visit.get(k))
                ]
                if changes and max(changes) >= IMPROVEMENT and min(changes) > -IMPROVEMENT:
                    level = 5
                    reasons.append("improvement visible across visits")
        result.append(EvidencedLevel(practice=practice, level=level, reasons=tuple(reasons)))
    return result


def maturity_gaps(
    self_assessed: Mapping[str, int | None], evidenced: Sequence[EvidencedLevel]
) -> dict[str, dict[str, int | None]]:
    """Per practice: self-assessed level, evidenced level and the gap (self − evidenced)."""
    out: dict[str, dict[str, int | None]] = {}
    for e in evidenced:
        own = self_assessed.get(e.practice)
        gap = None if own is None or e.level is None else own - e.level
        out[e.practice] = {"self": own, "evidenced": e.level, "gap": gap}
    return out
