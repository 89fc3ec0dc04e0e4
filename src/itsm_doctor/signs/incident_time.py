"""Incident signs about time and flow: resolution time, priority, backlog and demand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
from ibis import _
from scipy import stats

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import hours_between, of_type, period_end, share
from itsm_doctor.signs.window import incident_spans, observed_window

__all__ = ["INCIDENT_TIME_SIGNS", "backlog_slope", "resolution_hours"]

_MIN_MONTH_TICKETS = 20
_SKIP_FIRST_WEEKS = 4  # the backlog of an extract starts at zero and ramps up: not growth
# signs that need to know when tickets end: without any ending the lifecycle cannot be told
_ENDED = "ticket.resolved_at|ticket.closed_at|ticket.cancelled_at"
_NO_LIFECYCLE = (
    "no ticket is resolved, closed or cancelled, so the log's lifecycle cannot be told (for an event log, map "
    "its ending activities: docs/records.md)"
)
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


def backlog_slope(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    """Least-squares slope (tickets per week) of the open backlog at each week's end, inside the
    extract window (``signs/window.py``), its first four weeks (the ramp-up) and its last week
    (seldom whole) left out; ``table`` is an ``incident_spans`` summary."""
    window = observed_window(table)
    if window is None:
        return None, {
            "_reason": "no incident with an opening time and a resolution: arrivals and closures never both seen"
        }
    net = [window.arrivals.get(w, 0) - window.completions.get(w, 0) for w in window.weeks]
    backlog = np.cumsum(net)
    first = window.start + _SKIP_FIRST_WEEKS * timedelta(days=7)
    last = window.end - timedelta(days=7)  # the window's last week is seldom whole
    usable = [int(b) for w, b in zip(window.weeks, backlog, strict=True) if first <= w <= last]
    extra: dict[str, Any] = {
        "backlog_by_week": {str(w): int(b) for w, b in zip(window.weeks, backlog, strict=True)},
        "window": window.as_json(),
        "_n": int(sum(window.arrivals.values())),
        "_note": window.note(),
    }
    if len(usable) < _FIT_WEEKS:
        weeks_needed = _SKIP_FIRST_WEEKS + _FIT_WEEKS + 1  # + the window's last week
        return None, {
            **extra,
            "_reason": f"fewer than {weeks_needed} weeks of records where arrivals and closures are both observed",
        }
    slope = float(np.polyfit(np.arange(len(usable)), usable, 1)[0])
    return slope, extra


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
        return None, {
            "_reason": "no incident is open at the end of the records (a closed-only extract shows no open backlog)",
            "open_at_end": 0,
        }
    return float(np.percentile(ages, 90)), {"open_at_end": len(ages), "_n": len(ages)}


def _trend_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    """Monthly medians of the time to resolve, by month of opening, inside the extract window:
    incidents opened from its start up to the resolution cutoff, whole months only at the end."""
    window = observed_window(table)
    if window is None or window.cutoff is None:
        return None, {"_reason": "no resolved incident"}
    cutoff = window.cutoff
    # in numpy, on UTC wall-clock microseconds (Spark hands them back without their zone, DuckDB
    # with it): a million tickets take milliseconds, where Arrow's calendar functions take seconds
    stamps = np.asarray(table["opened"].cast(pa.timestamp("us")).to_numpy(zero_copy_only=False), dtype="datetime64[us]")
    hours = np.asarray(table["hours"].to_numpy(zero_copy_only=False), dtype=float)
    since = np.datetime64(window.start, "us")
    until = np.datetime64(cutoff.astimezone(UTC).replace(tzinfo=None), "us")
    keep = ~np.isnan(hours) & ~np.isnat(stamps) & (stamps >= since) & (stamps <= until)
    keys = stamps[keep].astype("datetime64[M]").astype(np.int64)  # months since January 1970
    values = hours[keep]
    order = np.argsort(keys, kind="stable")
    names, firsts = np.unique(keys[order], return_index=True)
    groups = np.split(values[order], firsts[1:]) if len(values) else []
    months = {f"{1970 + m // 12:04d}-{m % 12 + 1:02d}": v for m, v in zip(names.tolist(), groups, strict=True)}
    # a month whose end comes after the cutoff holds only the tickets already resolved
    whole = {m: v for m, v in months.items() if _month_end(m) <= cutoff and len(v) >= _MIN_MONTH_TICKETS}
    medians = {m: float(np.median(v)) for m, v in sorted(whole.items())}
    extra: dict[str, Any] = {"window": window.as_json(), "_note": window.note()}
    if len(medians) < 3:
        return None, {
            **extra,
            "_reason": f"fewer than three full months with {_MIN_MONTH_TICKETS} resolved incidents inside the "
            "extract window",
        }
    if not next(iter(medians.values())):
        return None, {**extra, "_reason": "the first month's median time to resolve is 0: no change relative to it"}
    first, last = next(iter(medians.values())), list(medians.values())[-1]
    change = (last - first) / first
    return (None if math.isnan(change) else change), {
        **extra,
        "month": {m: {"value": v, "n": len(whole[m])} for m, v in medians.items()},
        "_n": sum(len(v) for v in whole.values()),
    }


def _month_end(month: str) -> datetime:
    year, mon = int(month[:4]), int(month[5:])
    nxt = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=UTC)
    return nxt - timedelta(microseconds=1)


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
            "(cumulated arrivals − completions), measured only inside the extract window where arrivals and "
            "closures are both observed (signs/window.py): weeks whose arrivals or resolutions are sparse "
            "(under 20 % of a busy week: incidents opened before the window, closures not yet or no longer "
            "recorded), the drain after the last arrival, and in a closed-only extract the weeks after the last "
            "resolution less the p90 time to resolve are cut; the breakdown 'window' says what. The window's "
            "first four weeks (the ramp-up) and its last week (seldom whole) are left out. n/a when no ticket "
            "is resolved, closed or cancelled: the log's lifecycle cannot be told."
        ),
        benchmark=Benchmark(good=1.0, poor=5.0, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.opened_at", _ENDED),
        na_when=_NO_LIFECYCLE,
        summary=incident_spans,
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
        needs=("ticket.opened_at", _ENDED),
        na_when=_NO_LIFECYCLE,
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
            "of the records (the latest opening, resolution or closure of any ticket). n/a when nothing is open "
            "(a closed-only extract shows no backlog) or when no ticket is resolved, closed or cancelled (the "
            "log's lifecycle cannot be told)."
        ),
        benchmark=Benchmark(good=240.0, poor=720.0, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.opened_at", _ENDED),
        na_when=_NO_LIFECYCLE,
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
            "resolved incidents): (last − first) ÷ first, inside the extract window (signs/window.py): "
            "incidents opened before its start are left out (old tickets present only because they were still "
            "open), and so is every month that ends after the resolution cutoff — the last resolution of the "
            "records less the p90 time to resolve — whose long tickets could not be resolved yet."
        ),
        benchmark=Benchmark(good=0.10, poor=0.40, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.resolved_at",),
        summary=incident_spans,
        finish=_trend_finish,
    ),
)
