"""Incident signs about the path of a ticket: reassignment, ping-pong, reopen, escalation, pending."""

from __future__ import annotations

import ibis
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import (
    PENDING_NEEDS,
    group_path,
    hours_between,
    incident_intervals,
    of_type,
    share,
    tier_reach,
    time_share_finish,
    time_share_summary,
)

__all__ = ["INCIDENT_SIGNS"]


def _reassigned(r: Records) -> ibis.Table:
    p = group_path(r)
    return p.select("ticket_id", value=share(p.stretches >= 2))


def _mean_reassignments(r: Records) -> ibis.Table:
    p = group_path(r)
    return p.select("ticket_id", value=(p.stretches - 1).cast("float64"))


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
            "consecutive repeats collapsed, has two or more entries."
        ),
        benchmark=Benchmark(
            good=0.30,
            poor=0.50,
            source="no published benchmark verified; ServiceNow Benchmarks track % resolved on first assignment",
        ),
        needs=("event.to_group_id",),
        per_ticket=_reassigned,
    ),
    Sign(
        id="incident.mean_reassignments",
        name="Reassignments per incident",
        area="performance",
        practice="incident management",
        unit="count",
        direction="lower",
        definition="Mean number of group changes per incident (groups held, consecutive repeats collapsed, minus one).",
        benchmark=Benchmark(good=0.5, poor=1.5, source="no published benchmark verified; ITSM Doctor working band"),
        needs=("event.to_group_id",),
        per_ticket=_mean_reassignments,
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
