"""Incident signs about the path of a ticket: reassignment, ping-pong, reopen, escalation, pending."""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Detail, Sign
from itsm_doctor.signs.common import (
    PENDING_NEEDS,
    WAIT_USER_NA,
    group_path,
    hours_between,
    incident_intervals,
    of_type,
    share,
    tier_reach,
    time_share_finish,
    time_share_summary,
)

__all__ = ["INCIDENT_SIGNS", "counter_detail", "reassignments"]


def reassignments(r: Records) -> ibis.Table:
    """Per incident with a group history or a source counter: ``history`` (group changes seen in
    the events), ``counter`` (the source's own reassignment count) and ``reassignments``, the larger of
    the two — a snapshot export that skips updates hides changes its counter still counts.
    Shared by the reassignment signs and first contact resolution."""
    return r.shared("reassignments", lambda: _reassignments(r))


def _reassignments(r: Records) -> ibis.Table:
    t = of_type(r, "incident").select("ticket_id", counter=_.reassignment_count.cast("int64"))
    p = group_path(r)
    j = t.left_join(p, t.ticket_id == p.ticket_id)
    history = (j.stretches - 1).cast("int64")
    count = ibis.greatest(history.coalesce(j.counter), j.counter.coalesce(history))
    return j.select(ticket_id=t.ticket_id, history=history, counter=j.counter, reassignments=count).filter(
        _.reassignments.notnull()
    )


def _reassigned(r: Records) -> ibis.Table:
    p = reassignments(r)
    return p.select("ticket_id", value=share(p.reassignments >= 1))


def _mean_reassignments(r: Records) -> ibis.Table:
    p = reassignments(r)
    return p.select("ticket_id", value=p.reassignments.cast("float64"))


def _counter_summary(r: Records) -> ibis.Table:
    p = reassignments(r)
    both = p.history.notnull() & p.counter.notnull()
    return p.aggregate(
        tickets=_.count(),
        with_both=both.ifelse(1, 0).sum(),
        history_reassigned=(p.history >= 1).ifelse(1.0, 0.0).mean(where=p.history.notnull()),
        counter_reassigned=(p.counter >= 1).ifelse(1.0, 0.0).mean(where=p.counter.notnull()),
        history_mean=p.history.cast("float64").mean(),
        counter_mean=p.counter.cast("float64").mean(),
        counter_above=(both & (p.counter > p.history)).ifelse(1, 0).sum(),
        history_above=(both & (p.history > p.counter)).ifelse(1, 0).sum(),
    )


def counter_detail(table: pa.Table) -> tuple[dict[str, Any], str | None]:
    """The ``Detail`` finish of the reassignment signs: history against the source's counter."""
    row = table.to_pylist()[0]
    detail = {k: v if v is None or isinstance(v, float) else int(v) for k, v in row.items()}
    if not row["with_both"] or (not row["counter_above"] and not row["history_above"]):
        return detail, None
    note = (
        f"the history and the source's reassignment_count differ on {row['counter_above'] + row['history_above']:,} "
        f"incident(s) (counter higher on {row['counter_above']:,}); reassigned by the history alone "
        f"{row['history_reassigned']:.1%}, by the counter alone {row['counter_reassigned']:.1%}: the larger of "
        "the two is used per incident"
    )
    return detail, note


def _ping_pong(r: Records) -> ibis.Table:
    p = group_path(r)
    return p.select("ticket_id", value=p.ping_pong.cast("float64"))


def _reopens(r: Records) -> ibis.Table:
    ev = r["event"].filter(_.kind == "reopen")
    return ev.group_by("ticket_id").aggregate(reopens=_.count(), first_reopen=_.ts.min())


def _reopened(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull())
    ro = _reopens(r)
    j = t.left_join(ro, t.ticket_id == ro.ticket_id)
    by_events = (j.reopens.fill_null(0) > 0) | (j.reopen_count.fill_null(0) > 0)
    return j.select(ticket_id=t.ticket_id, value=share(by_events))


def _reopen_summary(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull())
    ro = _reopens(r)
    j = t.left_join(ro, t.ticket_id == ro.ticket_id)
    by_events = j.reopens.fill_null(0) > 0
    by_counter = j.reopen_count.fill_null(0) > 0
    return j.aggregate(
        tickets=_.count(),
        with_counter=j.reopen_count.notnull().ifelse(1, 0).sum(),
        by_events=by_events.ifelse(1, 0).sum(),
        by_counter=by_counter.ifelse(1, 0).sum(),
        counter_only=(by_counter & ~by_events).ifelse(1, 0).sum(),
        events_only=(by_events & ~by_counter & j.reopen_count.notnull()).ifelse(1, 0).sum(),
    )


def _reopen_detail(table: pa.Table) -> tuple[dict[str, Any], str | None]:
    row = {k: int(v or 0) for k, v in table.to_pylist()[0].items()}
    if not row["with_counter"] or not (row["counter_only"] or row["events_only"]):
        return row, None
    return row, (
        f"reopened by the history on {row['by_events']:,} incident(s), by the source's reopen_count on "
        f"{row['by_counter']:,} ({row['counter_only']:,} by the counter alone): either counts"
    )


def _quick_reopen(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull())
    ro = _reopens(r)
    j = t.left_join(ro, t.ticket_id == ro.ticket_id)
    soon = j.first_reopen.notnull() & (hours_between(j.resolved_at, j.first_reopen) <= 72)
    return j.select(ticket_id=t.ticket_id, value=share(soon))


def _escalated(r: Records) -> ibis.Table:
    reach = tier_reach(r)
    return reach.select("ticket_id", value=share(reach.max_tier >= 2))


def _wait_user(r: Records) -> ibis.Table:
    si = incident_intervals(r)
    return si.group_by("ticket_id").aggregate(
        value=share((si.pending_reason == "awaiting_user").fill_null(False).any())
    )


INCIDENT_SIGNS: tuple[Sign, ...] = (
    Sign(
        id="incident.reassignment_rate",
        name="Reassignment rate",
        area="performance",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Share of incidents with at least one change of group: the sequence of groups that held the ticket, "
            "consecutive repeats collapsed, has two or more entries — or the source's own reassignment count "
            "(ServiceNow reassignment_count, BPIC 2014 # Reassignments) is at least 1. Per incident the larger of "
            "the history and the counter is used, and a note says when they differ (a snapshot export that skips "
            "updates hides group changes its counter still counts)."
        ),
        benchmark=Benchmark(
            good=0.30,
            poor=0.50,
            source="no published benchmark verified; ServiceNow Benchmarks track % resolved on first assignment",
        ),
        needs=("event.to_group_id|ticket.reassignment_count",),
        per_ticket=_reassigned,
        detail=Detail(summary=_counter_summary, finish=counter_detail),
    ),
    Sign(
        id="incident.mean_reassignments",
        name="Reassignments per incident",
        area="performance",
        practice="incident management",
        unit="count",
        direction="lower",
        definition=(
            "Mean number of group changes per incident: per incident the larger of the groups held (consecutive "
            "repeats collapsed) minus one and the source's own reassignment count."
        ),
        benchmark=Benchmark(good=0.5, poor=1.5, source="no published benchmark verified; ITSM Doctor working band"),
        needs=("event.to_group_id|ticket.reassignment_count",),
        per_ticket=_mean_reassignments,
        detail=Detail(summary=_counter_summary, finish=counter_detail),
    ),
    Sign(
        id="incident.ping_pong_rate",
        name="Ping-pong rate",
        area="quality",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Share of incidents whose group sequence (consecutive repeats collapsed) contains X → Y → X: the "
            "ticket came back to a group that had passed it on. BPIC 2013 challenge question 2."
        ),
        benchmark=Benchmark(good=0.05, poor=0.15, source="no published benchmark; ITSM Doctor working band"),
        needs=("event.to_group_id",),
        per_ticket=_ping_pong,
    ),
    Sign(
        id="incident.reopen_rate",
        name="Reopen rate",
        area="quality",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Share of resolved incidents reopened at least once (a move from resolved or closed back to an open "
            "status, or the source's reopen count > 0)."
        ),
        benchmark=Benchmark(
            good=0.05, poor=0.12, source="no published benchmark; ServiceNow Benchmarks define it (% reopened)"
        ),
        needs=("ticket.resolved_at",),
        per_ticket=_reopened,
        detail=Detail(summary=_reopen_summary, finish=_reopen_detail),
    ),
    Sign(
        id="incident.quick_reopen_rate",
        name="Reopened within 72 hours",
        area="quality",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition="Share of resolved incidents whose first reopen came within 72 hours of the first resolution.",
        benchmark=Benchmark(good=0.03, poor=0.08, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.resolved_at", "event"),
        per_ticket=_quick_reopen,
    ),
    Sign(
        id="incident.escalation_rate",
        name="Escalation rate",
        area="performance",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition="Share of incidents (whose groups have a known tier) that reached a tier-2 or tier-3 group.",
        benchmark=Benchmark(
            good=0.25,
            poor=0.45,
            source=(
                "no published benchmark verified; MetricNet tracks Level 1 resolution rate as a core "
                "service-desk KPI (webcast 'Service Desk First Level Resolution'); ITSM Doctor working band"
            ),
        ),
        needs=("group.tier", "event.to_group_id"),
        per_ticket=_escalated,
    ),
    Sign(
        id="incident.wait_user_rate",
        name="Awaiting-user rate",
        area="compliance",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition="Share of incidents with at least one awaiting-user interval. BPIC 2013 challenge question 3.",
        benchmark=Benchmark(good=0.15, poor=0.35, source="no published benchmark; ITSM Doctor working band"),
        needs=PENDING_NEEDS,
        na_when=WAIT_USER_NA,
        per_ticket=_wait_user,
    ),
    Sign(
        id="incident.pending_time_share",
        name="Time pending",
        area="performance",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition="Time in pending (any reason) ÷ total open time, summed over all incidents' status intervals.",
        benchmark=Benchmark(good=0.15, poor=0.35, source="no published benchmark; ITSM Doctor working band"),
        needs=("status_interval",),
        summary=time_share_summary(None),
        finish=time_share_finish,
    ),
)
