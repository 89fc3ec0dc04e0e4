"""Per-ticket building blocks shared by several signs (Ibis expressions, nothing executed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from itsm_doctor.engine import Records

__all__ = [
    "HOUR",
    "PENDING_NEEDS",
    "WAIT_USER_NA",
    "collapsed",
    "group_path",
    "hours_between",
    "incident_intervals",
    "of_incidents",
    "of_type",
    "period_end",
    "ratio_finish",
    "share",
    "tier_reach",
    "time_share_finish",
    "time_share_summary",
    "type_counts",
]

HOUR = 3600.0


def of_type(r: Records, ticket_type: str) -> ibis.Table:
    t = r["ticket"]
    return t.filter(t.ticket_type == ticket_type)


def of_incidents(r: Records, table: str) -> ibis.Table:
    """The rows of ``event`` or ``status_interval`` that belong to incidents. When the records
    hold incidents alone and every row names a known ticket, that is the whole table: no join."""
    rows = r[table]
    if r.referential and r.fact("incidents_only", lambda: _incidents_only(r)):
        return rows
    return rows.join(of_type(r, "incident").select("ticket_id"), "ticket_id")


def _incidents_only(r: Records) -> bool:
    t = r["ticket"]
    return not bool(r.execute((t.ticket_type != "incident").fill_null(True).any()))


def hours_between(start: ibis.Column, end: ibis.Column) -> ibis.Column:
    """Elapsed hours from ``start`` to ``end`` (null when either is null), to the second.

    Whole seconds on every backend (Spark's epoch has no fraction; DuckDB's is floored to
    match); a microsecond difference would be exact too but is 3× slower on DuckDB."""
    return (end.epoch_seconds().floor() - start.epoch_seconds().floor()).cast("float64") / HOUR


def share(condition: ibis.Column) -> ibis.Column:
    """1.0 where the condition holds, 0.0 where it does not (null stays null)."""
    return ibis.cases((condition.isnull(), ibis.null("float64")), (condition, 1.0), else_=0.0)


def collapsed(r: Records, column: str) -> ibis.Table:
    """Per incident, the events that change ``column`` (``to_status`` or ``to_group_id``),
    consecutive repeats collapsed: ``ticket_id, seq, ts, node, prev`` (the node before),
    ``prev_ts`` (when that one was entered), ``back`` (the node two steps before) and
    ``step`` (0, 1, …). Shared by several signs and by the process maps."""
    return r.shared(f"collapsed:{column}", lambda: _collapsed(r, column))


# the state an event leaves, as intake derives it (the last known value before the event)
_BEFORE = {"to_status": "from_status", "to_group_id": "from_group_id"}


def _collapsed(r: Records, column: str) -> ibis.Table:
    # An event changes the node when it differs from the one it leaves: canonical events carry
    # that (``from_*``, filled by intake), so one window over the changes does, where finding
    # the repeats first would take a second pass over every event. Only the columns needed:
    # windows carry every column they are given.
    ev = of_incidents(r, "event").select("ticket_id", "seq", "ts", node=_[column], prev=_[_BEFORE[column]])
    steps = ev.filter(ev.node.notnull() & (ev.prev.isnull() | (ev.prev != ev.node)))
    w = ibis.window(group_by=steps.ticket_id, order_by=[steps.seq, steps.ts])
    return steps.mutate(prev_ts=steps.ts.lag().over(w), back=steps.prev.lag().over(w), step=ibis.row_number().over(w))


def group_path(r: Records) -> ibis.Table:
    """Per incident: ``stretches``, the groups that held it in turn (consecutive repeats
    collapsed), and ``ping_pong``, 1 when the path returns to a group it left for another
    (X → Y → X). Shared by several signs."""
    return r.shared("group_path", lambda: _group_path(r))


def _group_path(r: Records) -> ibis.Table:
    c = collapsed(r, "to_group_id")
    return c.group_by("ticket_id").aggregate(
        stretches=_.count(),
        ping_pong=(c.back.notnull() & (c.back == c.node)).ifelse(1, 0).max(),
    )


def tier_reach(r: Records) -> ibis.Table:
    """Per incident: lowest and highest support tier among the groups that held it, and when
    it first left tier 1 (only tickets whose groups have a known tier). Shared by several signs."""
    return r.shared("tier_reach", lambda: _tier_reach(r))


def _tier_reach(r: Records) -> ibis.Table:
    ev = of_incidents(r, "event").filter(_.to_group_id.notnull())
    g = r["group"].filter(_.tier.notnull()).select(gid=_.group_id, tier=_.tier)
    ev = ev.join(g, ev.to_group_id == g.gid)
    return ev.group_by("ticket_id").aggregate(
        min_tier=_.tier.min(),
        max_tier=_.tier.max(),
        first_t1=_.ts.min(where=_.tier == 1),
        first_above=_.ts.min(where=_.tier > 1),
    )


def period_end(r: Records) -> ibis.Table:
    """One row, ``period_end``: the latest opening, resolution or closure in the records."""
    t = r["ticket"]
    return t.aggregate(period_end=t.closed_at.coalesce(t.resolved_at, t.opened_at).max())


def type_counts(r: Records) -> ibis.Table:
    """One row: tickets of each type, and incidents with a causing change."""
    t = r["ticket"]
    return t.aggregate(
        incidents=(t.ticket_type == "incident").ifelse(1, 0).sum(),
        requests=(t.ticket_type == "request").ifelse(1, 0).sum(),
        problems=(t.ticket_type == "problem").ifelse(1, 0).sum(),
        changes=(t.ticket_type == "change").ifelse(1, 0).sum(),
        caused=(t.caused_by_change_id.notnull() & (t.ticket_type == "incident")).ifelse(1, 0).sum(),
    )


def ratio_finish(
    numerator: str, denominators: tuple[str, ...], scale: float = 1.0
) -> Callable[[pa.Table], tuple[float | None, dict[str, Any]]]:
    """A ``finish`` for ``type_counts``: ``scale`` × numerator ÷ the sum of the denominators."""

    def finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
        row = table.to_pylist()[0]
        whole = sum(int(row[d] or 0) for d in denominators)
        if whole == 0:
            return None, {"_reason": f"no {' or '.join(denominators)} in these records"}
        return scale * int(row[numerator] or 0) / whole, {k: int(v or 0) for k, v in row.items()} | {"_n": whole}

    return finish


# Waiting on the user can be told only where the log has an awaiting-user state: a log whose
# only pending reasons are the vendor or "unknown" (or that has customer-contact activities
# and no waiting state, as BPIC 2014) cannot show it, and 0 % there would read as "good".
PENDING_NEEDS = ("status_interval.pending_reason=awaiting_user",)
WAIT_USER_NA = "the log has no awaiting-user state, so waiting on the user cannot be told from these records"


def incident_intervals(r: Records) -> ibis.Table:
    """The status intervals of incidents."""
    return of_incidents(r, "status_interval")


def time_share_summary(reason: str | None) -> Callable[[Records], ibis.Table]:
    """A summary: time pending for ``reason`` (any reason when None) and total open time, summed
    over the incidents' open-status intervals."""

    def summary(r: Records) -> ibis.Table:
        si = incident_intervals(r).filter(_.status.isin(("new", "assigned", "in_progress", "pending")))
        si = si.filter(_.duration_s.notnull())
        hit = (si.pending_reason == reason if reason else si.status == "pending").fill_null(False)
        return si.aggregate(
            part=hit.ifelse(si.duration_s, 0.0).sum(), whole=si.duration_s.sum(), n=si.ticket_id.nunique()
        )

    return summary


def time_share_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    """The ``finish`` of ``time_share_summary``: part ÷ whole."""
    row = table.to_pylist()[0]
    whole = row["whole"] or 0.0
    if whole <= 0:
        return None, {"_reason": "no open time recorded"}
    return (row["part"] or 0.0) / whole, {"_n": row["n"] or 0}
