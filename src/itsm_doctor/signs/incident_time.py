"""Incident signs about time and flow: resolution time, priority, backlog and demand."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
from ibis import _
from scipy import stats

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import hours_between, of_type, period_end, share

__all__ = ["INCIDENT_TIME_SIGNS", "backlog_slope", "resolution_hours"]

_MIN_MONTH_TICKETS = 20
_SKIP_FIRST_WEEKS = 4  # the backlog of an extract starts at zero and ramps up: not growth
_FIT_WEEKS = 4  # the fewest weeks a slope is fitted on


def resolution_hours(r: Records, ticket_type: str = "incident") -> ibis.Table:
    t = of_type(r, ticket_type).filter(_.resolved_at.notnull() & _.opened_at.notnull())
    return t.select("ticket_id", value=hours_between(t.opened_at, t.resolved_at))


def _mttr(r: Records) -> ibis.Table:
    return resolution_hours(r)


def _within_24h(r: Records) -> ibis.Table:
    h = resolution_hours(r)
    return h.select("ticket_id", value=share(h.value <= 24))


def _priority_pairs(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull() & _.priority.notnull())
    return t.select(priority=t.priority, hours=hours_between(t.opened_at, t.resolved_at))


def _priority_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    p = np.asarray(table["priority"].to_numpy(zero_copy_only=False), dtype=float)
    h = np.asarray(table["hours"].to_numpy(zero_copy_only=False), dtype=float)
    if len(p) < 10 or len(np.unique(p)) < 2:
        return None, {"_reason": "fewer than 10 resolved incidents or a single priority", "_n": len(p)}
    rho = float(stats.spearmanr(p, h).statistic)
    medians = {str(int(k)): float(np.median(h[p == k])) for k in np.unique(p)}
    return rho, {"median_hours_by_priority": medians, "_n": len(p)}


def _high_priority(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.priority.notnull())
    return t.select("ticket_id", value=share(t.priority <= 2))


def _downgraded(r: Records) -> ibis.Table:
    inc = of_type(r, "incident").filter(_.priority.notnull()).select("ticket_id")
    ev = r["event"].filter(_.kind == "priority_change")
    before = ev.from_raw.re_extract(r"(\d)", 1).nullif("").cast("int32")
    after = ev.to_raw.re_extract(r"(\d)", 1).nullif("").cast("int32")
    lowered = ev.mutate(lowered=(after > before).ifelse(1, 0)).group_by("ticket_id").aggregate(lowered=_.lowered.max())
    j = inc.left_join(lowered, inc.ticket_id == lowered.ticket_id)
    return j.select(ticket_id=inc.ticket_id, value=j.lowered.fill_null(0).cast("float64"))


def _weekly(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.opened_at.notnull() & _.cancelled_at.isnull())
    opened = t.group_by(week=t.opened_at.truncate("W").date()).aggregate(arrivals=_.count())
    done = t.filter(_.resolved_at.notnull())
    closed = done.group_by(week=done.resolved_at.truncate("W").date()).aggregate(completions=_.count())
    j = opened.outer_join(closed, opened.week == closed.week)
    return j.select(
        week=j.week.coalesce(j.week_right), arrivals=j.arrivals.fill_null(0), completions=j.completions.fill_null(0)
    ).order_by("week")


def backlog_slope(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    """Least-squares slope (tickets per week) of the open backlog at each week's end."""
    rows = sorted(table.to_pylist(), key=lambda x: x["week"])
    if not rows:
        return None, {"_reason": "no incident with an opening time"}
    net: dict[Any, int] = {}
    week, last = rows[0]["week"], rows[-1]["week"]
    while week <= last:  # weeks with no activity still count
        net[week] = 0
        week += timedelta(days=7)
    for row in rows:
        net[row["week"]] += int(row["arrivals"]) - int(row["completions"])
    backlog = np.cumsum(list(net.values()))
    weeks = list(net)
    usable = backlog[_SKIP_FIRST_WEEKS:-1]
    if len(usable) < _FIT_WEEKS:
        weeks_needed = _SKIP_FIRST_WEEKS + _FIT_WEEKS + 1  # + the last, partial week
        return None, {"_reason": f"fewer than {weeks_needed} weeks of records", "_n": int(table.num_rows)}
    slope = float(np.polyfit(np.arange(len(usable)), usable, 1)[0])
    series = {str(w): int(b) for w, b in zip(weeks, backlog, strict=True)}
    return slope, {"backlog_by_week": series, "_n": int(sum(int(r["arrivals"]) for r in rows))}


def _demand(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.cancelled_at.isnull())
    return t.aggregate(opened=_.count(), resolved=_.resolved_at.count())


def _demand_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    row = table.to_pylist()[0]
    if not row["resolved"]:
        return None, {"_reason": "no resolved incident", "_n": row["opened"]}
    return row["opened"] / row["resolved"], {"opened": row["opened"], "resolved": row["resolved"], "_n": row["opened"]}


def _open_ages(r: Records) -> ibis.Table:
    t = of_type(r, "incident")
    end = period_end(r)
    still_open = t.filter(
        _.resolved_at.isnull() & _.closed_at.isnull() & _.cancelled_at.isnull() & _.opened_at.notnull()
    )
    j = still_open.cross_join(end)
    return j.select(age=hours_between(j.opened_at, j.period_end))


def _age_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    ages = np.asarray(table["age"].to_numpy(zero_copy_only=False), dtype=float)
    if len(ages) == 0:
        return 0.0, {"open_at_end": 0, "_n": 0}
    return float(np.percentile(ages, 90)), {"open_at_end": len(ages), "_n": len(ages)}


def _monthly_mttr(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull() & _.opened_at.notnull())
    h = hours_between(t.opened_at, t.resolved_at)
    return t.group_by(month=t.opened_at.strftime("%Y-%m")).aggregate(n=_.count(), median=h.quantile(0.5))


def _trend_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    rows = sorted((r for r in table.to_pylist() if r["n"] >= _MIN_MONTH_TICKETS), key=lambda r: r["month"])
    rows = rows[:-1]  # the last month is cut short: its long tickets are not resolved yet
    if len(rows) < 3:
        return None, {"_reason": f"fewer than three full months with {_MIN_MONTH_TICKETS} resolved incidents"}
    if not rows[0]["median"]:
        return None, {"_reason": "the first month's median time to resolve is 0: no change relative to it"}
    first, last = rows[0]["median"], rows[-1]["median"]
    change = (last - first) / first
    return (None if math.isnan(change) else change), {
        "month": {r["month"]: {"value": r["median"], "n": r["n"]} for r in rows},
        "_n": sum(r["n"] for r in rows),
    }


INCIDENT_TIME_SIGNS: tuple[Sign, ...] = (
    Sign(
        id="incident.mttr",
        name="Time to resolve (median)",
        area="performance",
        practice="incident management",
        unit="h",
        direction="lower",
        definition=(
            "Median calendar hours from opening to first resolution of resolved incidents; p90 and per-priority "
            "medians in the breakdowns."
        ),
        benchmark=Benchmark(good=8.0, poor=40.0, source="HDI/MetricNet: MTTR in business hours; no calendar-hour norm"),
        needs=("ticket.resolved_at",),
        per_ticket=_mttr,
        aggregate="median",
    ),
    Sign(
        id="incident.resolved_within_24h",
        name="Resolved within 24 hours",
        area="performance",
        practice="incident management",
        unit="ratio",
        direction="higher",
        definition="Share of resolved incidents resolved at most 24 calendar hours after opening.",
        benchmark=Benchmark(good=0.70, poor=0.45, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.resolved_at",),
        per_ticket=_within_24h,
    ),
    Sign(
        id="incident.priority_effect",
        name="Priority drives resolution time",
        area="performance",
        practice="incident management",
        unit="rho",
        direction="higher",
        definition=(
            "Spearman rank correlation between the priority number (1 = most urgent) and hours to resolve, over "
            "resolved incidents. Strongly positive when P1 is resolved much faster than P4."
        ),
        benchmark=Benchmark(good=0.30, poor=0.10, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.priority", "ticket.resolved_at"),
        summary=_priority_pairs,
        finish=_priority_finish,
    ),
    Sign(
        id="incident.high_priority_share",
        name="High-priority share",
        area="quality",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition="Share of incidents with priority 1 or 2 (ServiceNow Benchmarks: % high-priority incidents).",
        benchmark=Benchmark(good=0.15, poor=0.35, source="no published benchmark; ServiceNow Benchmarks define it"),
        needs=("ticket.priority",),
        per_ticket=_high_priority,
    ),
    Sign(
        id="incident.priority_downgrade_rate",
        name="Priority lowered after logging",
        area="quality",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Share of incidents whose priority was lowered (a larger priority number) by a priority change "
            "after creation: the requested priority was inflated."
        ),
        benchmark=Benchmark(good=0.05, poor=0.15, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.priority", "event.kind=priority_change"),
        per_ticket=_downgraded,
    ),
    Sign(
        id="incident.backlog_growth",
        name="Backlog growth",
        area="performance",
        practice="incident management",
        unit="count",
        direction="lower",
        definition=(
            "Least-squares slope, in tickets per week, of the number of open incidents at each week's end "
            "(cumulated arrivals − completions). The first four weeks (the extract's ramp-up from zero) and the "
            "last, partial week are left out."
        ),
        benchmark=Benchmark(good=1.0, poor=5.0, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.opened_at",),
        summary=_weekly,
        finish=backlog_slope,
    ),
    Sign(
        id="incident.demand_capacity_ratio",
        name="Arrivals per completion",
        area="performance",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition="Incidents opened ÷ incidents resolved in the records (cancelled ones left out).",
        benchmark=Benchmark(good=1.02, poor=1.10, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.opened_at",),
        summary=_demand,
        finish=_demand_finish,
    ),
    Sign(
        id="incident.backlog_age_p90",
        name="Age of the open backlog (p90)",
        area="performance",
        practice="incident management",
        unit="h",
        direction="lower",
        definition=(
            "90th percentile of the age, in hours, of incidents neither resolved, closed nor cancelled at the end "
            "of the records (the latest opening, resolution or closure of any ticket); 0 when nothing is open."
        ),
        benchmark=Benchmark(good=240.0, poor=720.0, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.opened_at",),
        summary=_open_ages,
        finish=_age_finish,
    ),
    Sign(
        id="incident.mttr_trend",
        name="Trend of resolution time",
        area="performance",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Relative change of the monthly median time to resolve (by month of opening, months with ≥ 20 "
            "resolved incidents, the last month left out): (last − first) ÷ first."
        ),
        benchmark=Benchmark(good=0.10, poor=0.40, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.resolved_at",),
        summary=_monthly_mttr,
        finish=_trend_finish,
    ),
)
