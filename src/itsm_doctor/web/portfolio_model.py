"""A consultant's portfolio, as plain functions (no web framework here): which patients are
examined, when each one's next follow-up is due, and where each stands against the others on
the main signs.

- **Next follow-up.** Each register entry that is not abandoned and has follow-up days is due
  on ``adopted_on + follow_up_days``; it is followed up once a visit happened on or after that
  day. The patient's next follow-up is the earliest due date not yet followed up; it is
  overdue when that day is before today.
- **Standing.** On each main sign, a patient's standing is the share of the *other* patients
  (with a value for that sign) it does better than, ties counted half, in the sign's better
  direction: ``100 × (worse + ½ · tied) / (n − 1)``. Five patients whose MTTR is 10, 20, 30,
  40 and 50 h stand at 100, 75, 50, 25 and 0. With one patient there is no standing.
- **Members.** The portfolio is computed over the consultant's patients, but a member's view
  keeps only their own organisation's rows, and shows a standing only when at least
  ``MIN_PEERS_FOR_MEMBERS`` patients have a value (fewer would let the order reveal the others).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from itsm_doctor.report.words import format_value

__all__ = [
    "MAIN_SIGNS",
    "MIN_PEERS_FOR_MEMBERS",
    "Adopted",
    "FollowUpDue",
    "PatientFacts",
    "Portfolio",
    "PortfolioRow",
    "Standing",
    "SummaryCache",
    "next_follow_up",
    "portfolio",
    "standing",
    "summarise",
]

# The signs the portfolio compares: one or two per main practice, the ones most exports can show.
MAIN_SIGNS: tuple[tuple[str, str, str], ...] = (
    ("incident.mttr", "Mean time to resolve", "lower"),
    ("incident.reassignment_rate", "Reassignment rate", "lower"),
    ("incident.reopen_rate", "Reopen rate", "lower"),
    ("desk.first_contact_resolution", "First-contact resolution", "higher"),
    ("incident.sla_compliance", "SLA compliance", "higher"),
    ("incident.backlog_growth", "Backlog growth", "lower"),
)
MIN_PEERS_FOR_MEMBERS = 5
HEADLINE_DIAGNOSES = 3


@dataclass(frozen=True, kw_only=True)
class Adopted:
    """A register entry as the portfolio reads it."""

    title: str
    status: str
    adopted_on: date
    follow_up_days: int | None


@dataclass(frozen=True, kw_only=True)
class PatientFacts:
    """What the portfolio knows of one patient."""

    organisation_id: int
    organisation_slug: str
    organisation_name: str
    patient_slug: str
    patient_name: str
    visit_times: tuple[datetime, ...] = ()
    latest: Mapping[str, Any] | None = None  # the latest visit's examination JSON
    register: tuple[Adopted, ...] = ()


@dataclass(frozen=True, kw_only=True)
class FollowUpDue:
    on: date
    title: str
    overdue: bool
    days: int  # days from today (negative: overdue by that many)


@dataclass(frozen=True, kw_only=True)
class Standing:
    """A patient's place on one sign: its value, the share of the others it does better than
    (None when it cannot be shown) and how many patients had a value."""

    value: float | None
    shown: str
    percentile: float | None
    peers: int
    hidden: bool = False  # a member's view with too few patients to compare


@dataclass(frozen=True, kw_only=True)
class PortfolioRow:
    organisation_id: int
    organisation_slug: str
    organisation_name: str
    patient_slug: str
    patient_name: str
    visits: int
    last_visit: date | None
    present: tuple[str, ...]
    more_present: int
    due: FollowUpDue | None
    standings: dict[str, Standing] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Portfolio:
    signs: tuple[tuple[str, str], ...]
    rows: tuple[PortfolioRow, ...]
    patients: int  # how many patients the standings compare (all of them, shown or not)


def next_follow_up(register: Iterable[Adopted], visit_times: Sequence[datetime], *, today: date) -> FollowUpDue | None:
    """The earliest follow-up due and not yet followed up by a visit on or after its day."""
    visit_days = [t.date() for t in visit_times]
    pending = []
    for entry in register:
        if entry.status == "abandoned" or entry.follow_up_days is None:
            continue
        due = entry.adopted_on + timedelta(days=entry.follow_up_days)
        if any(day >= due for day in visit_days):
            continue
        pending.append((due, entry.title))
    if not pending:
        return None
    due, title = min(pending)
    return FollowUpDue(on=due, title=title, overdue=due < today, days=(due - today).days)


def standing(value: float, others: Sequence[float], *, direction: str) -> float | None:
    """The share (0–100) of ``others`` that ``value`` does better than, ties counted half."""
    if not others:
        return None
    sign = 1 if direction == "higher" else -1  # compare in the better direction
    worse = sum(1 for o in others if sign * o < sign * value)
    tied = sum(1 for o in others if o == value)
    return 100.0 * (worse + 0.5 * tied) / len(others)


def _sign_value(latest: Mapping[str, Any] | None, sign_id: str) -> tuple[float | None, str | None]:
    if not latest:
        return None, None
    for s in latest.get("signs") or []:
        if s.get("id") == sign_id:
            value = s.get("value")
            if s.get("status") == "n/a" or isinstance(value, bool) or not isinstance(value, int | float):
                return None, s.get("unit")
            return float(value), s.get("unit")
    return None, None


def _present(latest: Mapping[str, Any] | None) -> list[str]:
    diagnoses = [d for d in (latest or {}).get("diagnoses") or [] if d.get("verdict") == "present"]
    diagnoses.sort(key=lambda d: (-float(d.get("likelihood") or 0), str(d.get("name") or d.get("id"))))
    return [str(d.get("name") or d.get("id")) for d in diagnoses]


def summarise(examination: Mapping[str, Any]) -> dict[str, Any]:
    """What the portfolio reads of an examination — the main signs and the present diagnoses —
    in the examination's own shape (a few hundred bytes instead of the whole JSON)."""
    wanted = {s for s, _, _ in MAIN_SIGNS}
    return {
        "signs": [
            {k: s.get(k) for k in ("id", "value", "unit", "status")}
            for s in examination.get("signs") or []
            if s.get("id") in wanted
        ],
        "diagnoses": [
            {k: d.get(k) for k in ("id", "name", "verdict", "likelihood")}
            for d in examination.get("diagnoses") or []
            if d.get("verdict") == "present"
        ],
    }


class SummaryCache:
    """Summaries of visits by visit id, the last ``size`` kept: a visit is immutable, so its
    summary never goes stale. Thread-safe (pages are served from a thread pool)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, visit_ids: Iterable[str], load: Callable[[list[str]], Mapping[str, Mapping[str, Any]]]
    ) -> dict[str, dict[str, Any]]:
        """The summaries of ``visit_ids``; ``load(missing ids)`` gives the examinations not kept."""
        wanted = list(dict.fromkeys(visit_ids))
        with self._lock:
            found = {v: self._items[v] for v in wanted if v in self._items}
            for v in found:
                self._items.move_to_end(v)
        missing = [v for v in wanted if v not in found]
        if missing:
            loaded = {v: summarise(exam) for v, exam in load(missing).items()}
            found.update(loaded)
            with self._lock:
                self._items.update(loaded)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return found


def portfolio(
    patients: Sequence[PatientFacts],
    *,
    today: date,
    visible: Collection[int] | None = None,
    member_view: bool = False,
) -> Portfolio:
    """The portfolio of ``patients``: standings are computed among all of them; only the rows
    of the ``visible`` organisations are returned (all when None), and in a member's view a
    standing among fewer than ``MIN_PEERS_FOR_MEMBERS`` patients is hidden."""
    values: dict[str, list[tuple[int, float, str | None]]] = {}
    for i, p in enumerate(patients):
        for sign_id, _name, _direction in MAIN_SIGNS:
            value, unit = _sign_value(p.latest, sign_id)
            if value is not None:
                values.setdefault(sign_id, []).append((i, value, unit))
    rows = []
    for i, p in enumerate(patients):
        if visible is not None and p.organisation_id not in visible:
            continue
        standings = {}
        for sign_id, _name, direction in MAIN_SIGNS:
            known = values.get(sign_id, [])
            mine = next(((v, u) for j, v, u in known if j == i), None)
            if mine is None:
                standings[sign_id] = Standing(value=None, shown="n/a", percentile=None, peers=len(known))
                continue
            others = [v for j, v, _ in known if j != i]
            hidden = member_view and len(known) < MIN_PEERS_FOR_MEMBERS
            standings[sign_id] = Standing(
                value=mine[0],
                shown=format_value(mine[0], mine[1]),
                percentile=None if hidden else standing(mine[0], others, direction=direction),
                peers=len(known),
                hidden=hidden,
            )
        present = _present(p.latest)
        rows.append(
            PortfolioRow(
                organisation_id=p.organisation_id,
                organisation_slug=p.organisation_slug,
                organisation_name=p.organisation_name,
                patient_slug=p.patient_slug,
                patient_name=p.patient_name,
                visits=len(p.visit_times),
                last_visit=max(p.visit_times).date() if p.visit_times else None,
                present=tuple(present[:HEADLINE_DIAGNOSES]),
                more_present=max(0, len(present) - HEADLINE_DIAGNOSES),
                due=next_follow_up(p.register, p.visit_times, today=today),
                standings=standings,
            )
        )
    return Portfolio(signs=tuple((s, n) for s, n, _ in MAIN_SIGNS), rows=tuple(rows), patients=len(patients))
