"""Contrasts inside the patient: a group against its peers, a period against the previous one,
a priority class against another — sturdier across organisations than absolute bands.

Most dysfunctions are local (one group parks tickets, one pair of groups ping-pongs, one
person carries a group, the backlog climbs in one period), and an organisation-wide average
dilutes them; and an absolute band set on one organisation misfires on another of a
different size or tooling. Each sign here compares parts of the same records; narrower
readings of older signs are in ``itsm_doctor.signs.narrow``. See
docs/adr/0007-diagnosis-evidence-sufficiency-and-contrasts.md.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import collapsed, hours_between, incident_intervals, of_type

__all__ = ["CONTRAST_SIGNS"]

_MIN_CLASS = 20  # resolved incidents a priority class needs to be compared
_MIN_GROUP = 30  # resolved incidents a group needs to be compared with its peers
_MIN_RESOLVERS = 3  # agents who resolved a group's incidents, for a key-person reading
_MIN_PAIR = 20  # incidents handed between two groups, for a ping-pong reading
_EDGE_QUANTILE = 0.75  # of incidents' durations in weeks: the edges cut from the window
_STEADY_SHARE = 0.25  # of the median week's arrivals: weeks below it are the extract's thin edges
_ARRIVAL_SWING = 3.0  # arrivals between the window's halves beyond this factor: an extract's selection
_MIN_WEEKS = 6  # weeks of window left after the edges are cut, for a backlog trend
_WEEK_S = 7 * 86400
_MINUTE_H = 1 / 60  # resolution times are floored at a minute before their logarithm


# --- class vs class: priority ------------------------------------------------------------


def _priority_classes(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull() & _.priority.notnull())
    h = hours_between(t.opened_at, t.resolved_at)
    t = t.mutate(h=h).filter(_.h >= 0)
    # the geometric mean: a class mixes tickets the desk solves in minutes with escalated ones
    # taking days, and a median flips between the two modes with a few tickets
    log_h = t.h.clip(lower=_MINUTE_H).ln()
    return t.group_by("priority").aggregate(n=_.count(), log_mean=log_h.mean(), log_var=log_h.var(how="sample"))


def _priority_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    rows = sorted((x for x in table.to_pylist() if x["n"] >= _MIN_CLASS), key=lambda x: x["priority"])
    if len(rows) < 2:
        return None, {"_reason": f"fewer than two priority classes with {_MIN_CLASS} resolved incidents"}
    urgent, least = rows[0], rows[-1]
    per_class = {str(x["priority"]): {"value": math.exp(x["log_mean"]), "n": x["n"]} for x in rows}
    # one standard error below the estimate: two classes of a few dozen incidents each do not
    # pass for "as slow as each other" on noise alone
    se = math.sqrt(sum((x["log_var"] or 0.0) / x["n"] for x in (urgent, least)))
    ratio = math.exp(urgent["log_mean"] - least["log_mean"] - se)
    return ratio, {"priority": per_class, "standard_error": se, "_n": sum(x["n"] for x in rows)}


# --- group vs peers: one person carries a group ------------------------------------------


def _resolvers(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull() & _.assigned_group_id.notnull() & _.assignee_id.notnull())
    return t.group_by(["assigned_group_id", "assignee_id"]).aggregate(n=_.count())


def _key_person_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    groups: dict[str, list[int]] = {}
    for row in table.to_pylist():
        groups.setdefault(str(row["assigned_group_id"]), []).append(int(row["n"]))
    shares = {
        g: {"value": max(ns) / sum(ns), "n": sum(ns)}
        for g, ns in sorted(groups.items())
        if sum(ns) >= _MIN_GROUP and len(ns) >= _MIN_RESOLVERS
    }
    if not shares:
        return None, {"_reason": f"no group with {_MIN_GROUP} resolved incidents by {_MIN_RESOLVERS} agents"}
    top = max(shares.values(), key=lambda x: float(x["value"]))
    return float(top["value"]), {"group": shares, "_n": sum(int(x["n"]) for x in shares.values())}


# --- group vs peers: one group parks tickets ----------------------------------------------


def _pending_by_group(r: Records) -> ibis.Table:
    si = incident_intervals(r).filter(
        _.status.isin(("new", "assigned", "in_progress", "pending")) & _.duration_s.notnull() & _.group_id.notnull()
    )
    return si.group_by("group_id").aggregate(
        pending=(si.status == "pending").ifelse(si.duration_s, 0.0).sum(),
        whole=si.duration_s.sum(),
        n=si.ticket_id.nunique(),
    )


def _parking_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    rows = [x for x in table.to_pylist() if x["n"] >= _MIN_GROUP and (x["whole"] or 0) > 0]
    if len(rows) < 3:
        return None, {"_reason": f"fewer than three groups with {_MIN_GROUP} incidents to compare"}
    shares = {str(x["group_id"]): {"value": x["pending"] / x["whole"], "n": x["n"]} for x in rows}
    values = [float(x["value"]) for x in shares.values()]
    return max(values) - statistics.median(values), {"group": shares, "_n": sum(int(x["n"]) for x in rows)}


# --- pair vs pairs: one pair of groups ping-pongs -----------------------------------------


def _pairs(r: Records) -> ibis.Table:
    c = collapsed(r, "to_group_id").filter(_.prev.notnull() & (_.prev != _.node))
    low = ibis.least(c.prev, c.node)
    high = ibis.greatest(c.prev, c.node)
    per = c.group_by(["ticket_id", low.name("a"), high.name("b")]).aggregate(
        back=(c.back.notnull() & (c.back == c.node)).ifelse(1, 0).max()
    )
    return per.group_by(["a", "b"]).aggregate(n=_.count(), returned=_.back.sum())


def _pair_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    rows = [x for x in table.to_pylist() if x["n"] >= _MIN_PAIR]
    if not rows:
        return None, {"_reason": f"no pair of groups with {_MIN_PAIR} incidents handed between them"}
    pairs = {f"{x['a']} ↔ {x['b']}": {"value": x["returned"] / x["n"], "n": x["n"]} for x in rows}
    top = max(pairs.values(), key=lambda x: float(x["value"]))
    return float(top["value"]), {"pair": pairs, "_n": sum(int(x["n"]) for x in rows)}


# --- period vs previous: the backlog --------------------------------------------------------


def _backlog_weeks(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.opened_at.notnull())
    end = t.resolved_at.coalesce(t.closed_at, t.cancelled_at)
    return t.group_by(
        open_week=(t.opened_at.epoch_seconds() / _WEEK_S).floor().cast("int64"),
        end_week=(end.epoch_seconds() / _WEEK_S).floor().cast("int64"),
    ).aggregate(n=_.count())


def _backlog_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    rows = table.to_pylist()
    if not rows:
        return None, {"_reason": "no incident opened"}
    arrivals: dict[int, int] = {}
    for x in rows:
        arrivals[int(x["open_week"])] = arrivals.get(int(x["open_week"]), 0) + int(x["n"])
    span = range(min(arrivals), max(arrivals) + 1)
    # The observed window: weeks whose arrivals reach a quarter of a busy week's (the 90th
    # percentile). An extract often holds a thin tail of very old incidents (or of the first
    # days of a new tool) that would make the early backlog look empty.
    weekly = sorted(arrivals.get(w, 0) for w in span)
    floor = _STEADY_SHARE * weekly[int(0.9 * (len(weekly) - 1))]
    steady = [w for w in span if arrivals.get(w, 0) >= floor]
    first, last = steady[0], steady[-1]
    durations = sorted(
        d for x in rows if x["end_week"] is not None for d in [int(x["end_week"]) - int(x["open_week"])] * int(x["n"])
    )
    if not durations:
        return None, {"_reason": "no incident ends in these records: their lifecycle cannot be told, nor a backlog"}
    closed_only = all(x["end_week"] is not None for x in rows)
    # Left edge: incidents opened before the extract are missing, so the backlog fills from 0;
    # skip the weeks three quarters of incidents take to end (a p90 would let a few stuck
    # tickets swallow the whole window). Right edge: the drain after the last arrival
    # is the extract, not the organisation; and in a closed-only extract, incidents opened
    # late are present only if they ended quickly, so cut the same margin again.
    margin = durations[int(_EDGE_QUANTILE * (len(durations) - 1))] + 1
    start = first + margin
    stop = last - (margin if closed_only else 0)
    if stop - start + 1 < _MIN_WEEKS:
        return None, {
            "_reason": f"fewer than {_MIN_WEEKS} weeks between the fill-up and the end of arrivals "
            f"({'closed-only extract, ' if closed_only else ''}75 % of incidents end within {margin} weeks)"
        }
    weeks = range(start, stop + 1)
    half_weeks = len(weeks) // 2
    early = sum(arrivals.get(w, 0) for w in weeks[:half_weeks])
    late = sum(arrivals.get(w, 0) for w in weeks[-half_weeks:])
    if not early or not 1 / _ARRIVAL_SWING <= late / early <= _ARRIVAL_SWING:
        return None, {
            "_reason": f"arrivals change more than {_ARRIVAL_SWING:g}-fold between the window's halves "
            f"({early} → {late}): the extract selects incidents by period, its backlog is not the organisation's"
        }
    open_at = {w: 0 for w in weeks}
    for x in rows:
        o, e, n = int(x["open_week"]), x["end_week"], int(x["n"])
        for w in weeks:  # open at the end of week w: opened by then, not ended by then
            if o <= w and (e is None or int(e) > w):
                open_at[w] += n
    half = len(open_at) // 2
    values = list(open_at.values())
    before, after = statistics.fmean(values[:half]), statistics.fmean(values[-half:])
    if before <= 0:
        return None, {"_reason": "no open incident in the first half of the window"}
    window = {"first_week": start, "last_week": stop, "closed_only": closed_only, "edge_weeks": margin}
    per_week = {str(w): {"value": float(v), "n": v} for w, v in open_at.items()}
    return after / before - 1, {"week": per_week, "window": window, "_n": sum(int(x["n"]) for x in rows)}


CONTRAST_SIGNS: tuple[Sign, ...] = (
    Sign(
        id="incident.priority_class_ratio",
        name="Urgent class's resolution time against the least urgent",
        area="performance",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Geometric mean of hours to resolve (floored at a minute) of the most urgent priority class with "
            "≥ 20 resolved incidents, divided by that of the least urgent such class, taken one standard error "
            "below its estimate (small classes do not pass for equally slow on noise). Compares the classes "
            "themselves, so it holds when most incidents share one priority (where a rank correlation is flattened "
            "by ties); near 1 when priority does not change how fast work is done."
        ),
        benchmark=Benchmark(
            good=0.25,
            poor=0.60,
            source=(
                "shared real logs: the ServiceNow sample's P1 median is a small fraction of its P4 median "
                "(issue 13: 3 h against 40 h, 0.08); SLA targets commonly differ 4–20× between P1 and P4 "
                "(shared/domain/anchors.md); ITSM Doctor working band"
            ),
        ),
        needs=("ticket.priority", "ticket.resolved_at"),
        summary=_priority_classes,
        finish=_priority_finish,
    ),
    Sign(
        id="incident.group_key_person_share",
        name="One person carrying a group",
        area="quality",
        practice="workforce and talent management",
        unit="ratio",
        direction="lower",
        definition=(
            "For each group with ≥ 30 resolved incidents resolved by ≥ 3 agents (assignee at resolution), the "
            "share its busiest agent resolved; the sign is the highest such share. Dependency is a property of a "
            "group: a desk whose agents close many quick tickets does not raise it."
        ),
        benchmark=Benchmark(
            good=0.45,
            poor=0.65,
            source="no published benchmark; a group of 3 sharing work evenly reads 0.33–0.45; ITSM Doctor band",
        ),
        needs=("ticket.assignee_id", "ticket.assigned_group_id", "ticket.resolved_at"),
        summary=_resolvers,
        finish=_key_person_finish,
    ),
    Sign(
        id="incident.group_parking_excess",
        name="One group parking tickets",
        area="compliance",
        practice="service level management",
        unit="ratio",
        direction="lower",
        definition=(
            "Per group with ≥ 30 incidents, the share of its open time spent pending; the sign is the highest "
            "group's share minus the median group's. High when one group parks tickets its peers work on."
        ),
        benchmark=Benchmark(good=0.10, poor=0.25, source="no published benchmark; ITSM Doctor working band"),
        needs=("status_interval.group_id", "status_interval.pending_reason|status_interval.status=pending"),
        summary=_pending_by_group,
        finish=_parking_finish,
    ),
    Sign(
        id="incident.pair_ping_pong_share",
        name="Ping-pong within one pair of groups",
        area="quality",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Per pair of groups with ≥ 20 incidents handed between them, the share of those incidents handed "
            "back (X → Y → X); the sign is the highest pair's share. One pair bouncing tickets shows here even "
            "when the organisation-wide ping-pong rate is diluted."
        ),
        benchmark=Benchmark(good=0.10, poor=0.25, source="no published benchmark; ITSM Doctor working band"),
        needs=("event.to_group_id",),
        summary=_pairs,
        finish=_pair_finish,
    ),
    Sign(
        id="incident.backlog_trend",
        name="Backlog trend within the extract",
        area="performance",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Mean open incidents at week ends in the second half of the observed window divided by the first "
            "half, minus 1. The window runs over the weeks whose arrivals reach a quarter of a busy week's (the "
            "90th percentile), n/a when arrivals change more than threefold between its halves, "
            "and leaves out the fill-up after the extract starts and the drain after the "
            "last arrival (and, in a closed-only extract, as many weeks again before it, since late incidents "
            "appear only if they ended early); the edge is the weeks in which 75 % of incidents end."
        ),
        benchmark=Benchmark(
            good=0.25,
            poor=0.75,
            source="no published benchmark; a steady organisation's halves differ by up to a fifth over a quarter "
            "(simulated panels); ITSM Doctor working band",
        ),
        needs=("ticket.opened_at",),
        summary=_backlog_weeks,
        finish=_backlog_finish,
        breakdowns=(),
    ),
)
