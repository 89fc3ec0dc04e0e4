"""Incident signs about the path of a ticket: reassignment, ping-pong, reopen, escalation,
pending, and the service level it met."""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import group_path, hours_between, of_type, share, tier_reach

__all__ = ["INCIDENT_SIGNS", "resolution_deadline"]

_NEAR = 0.8  # the last 20 % of the SLA window


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


def resolution_deadline(r: Records, tickets: ibis.Table) -> ibis.Table:
    """Per ticket: its resolution deadline — the source's due date, else the SLA record's
    breach time, else opened + the configured target for its type and priority."""
    targets = (
        r["sla_target"].filter(_.metric == "resolution").select(tt=_.ticket_type, tp=_.priority, target_s=_.target_s)
    )
    rec = (
        r["sla_record"]
        .filter(_.metric == "resolution")
        .group_by("ticket_id")
        .aggregate(breach_at=_.breach_at.min(), breached=_.breached.max())
        .rename(rid="ticket_id")
    )
    j = tickets.left_join(targets, (tickets.ticket_type == targets.tt) & (tickets.priority == targets.tp))
    j = j.left_join(rec, j.ticket_id == rec.rid)
    configured = j.opened_at + (j.target_s.cast("int64")).as_interval("s")
    return j.select(
        "ticket_id",
        "opened_at",
        "resolved_at",
        "sla_met",
        breached=j.breached,
        target_s=j.target_s,
        deadline=j.due_at.coalesce(j.breach_at, configured),
    )


def sla_outcome(r: Records, ticket_type: str) -> ibis.Table:
    """1/0 per ticket with a resolution SLA: the source's outcome first, else the SLA record,
    else resolved within the configured target."""
    d = resolution_deadline(r, of_type(r, ticket_type))
    within = d.resolved_at.notnull() & (d.resolved_at <= d.deadline)
    # a ticket not resolved yet has no outcome to count
    by_target = (d.deadline.notnull() & d.resolved_at.notnull()).ifelse(share(within), ibis.null("float64"))
    value = share(d.sla_met).coalesce(share(d.breached == ibis.literal(False)), by_target)
    return d.select("ticket_id", value=value)


def _sla(r: Records) -> ibis.Table:
    return sla_outcome(r, "incident")


def _intervals(r: Records) -> ibis.Table:
    inc = of_type(r, "incident").select("ticket_id")
    return r["status_interval"].join(inc, "ticket_id")


def _wait_user(r: Records) -> ibis.Table:
    si = _intervals(r)
    return si.group_by("ticket_id").aggregate(
        value=share((si.pending_reason == "awaiting_user").fill_null(False).any())
    )


def _wait_near_deadline(r: Records) -> ibis.Table:
    si = _intervals(r).filter(_.pending_reason == "awaiting_user")
    d = resolution_deadline(r, of_type(r, "incident")).filter(_.deadline.notnull()).rename(did="ticket_id")
    j = si.join(d, si.ticket_id == d.did)
    window_s = j.deadline.epoch_seconds() - j.opened_at.epoch_seconds()
    pos = (j.start.epoch_seconds() - j.opened_at.epoch_seconds()).cast("float64") / window_s.cast("float64")
    near = (pos >= _NEAR) & (pos <= 1.0)
    return j.filter(window_s > 0).select("ticket_id", value=share(near))


def _time_share_summary(reason: str | None) -> Any:
    def summary(r: Records) -> ibis.Table:
        si = _intervals(r).filter(_.status.isin(("new", "assigned", "in_progress", "pending")))
        si = si.filter(_.duration_s.notnull())
        hit = (si.pending_reason == reason if reason else si.status == "pending").fill_null(False)
        return si.aggregate(
            part=hit.ifelse(si.duration_s, 0.0).sum(), whole=si.duration_s.sum(), n=si.ticket_id.nunique()
        )

    return summary


def _time_share_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    row = table.to_pylist()[0]
    whole = row["whole"] or 0.0
    if whole <= 0:
        return None, {"_reason": "no open time recorded"}
    return (row["part"] or 0.0) / whole, {"_n": row["n"] or 0}


_PENDING_NEEDS = ("status_interval.pending_reason",)

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
            good=0.30, poor=0.50, source="LiveAgent helpdesk research: ~0.5 transfers per ticket with a solid helpdesk"
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
        benchmark=Benchmark(
            good=0.5, poor=1.5, source="LiveAgent helpdesk research: ~0.5 with a solid helpdesk, 1–2 without"
        ),
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
            good=0.25, poor=0.45, source="MetricNet: 85% resolved at level 1 in North America (c. 2013)"
        ),
        needs=("group.tier", "event.to_group_id"),
        per_ticket=_escalated,
    ),
    Sign(
        id="incident.sla_compliance",
        name="Resolution SLA compliance",
        area="compliance",
        practice="service level management",
        unit="ratio",
        direction="higher",
        definition=(
            "Share of incidents with a resolution SLA that met it: the source's own outcome (e.g. ServiceNow "
            "made_sla) first, else the SLA record's breach flag, else resolved before opened + the configured "
            "target for the ticket's priority."
        ),
        benchmark=Benchmark(good=0.90, poor=0.75, source="no published benchmark; ServiceNow Benchmarks define it"),
        needs=("ticket.sla_met|sla_record|sla_target",),
        per_ticket=_sla,
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
        needs=_PENDING_NEEDS,
        per_ticket=_wait_user,
    ),
    Sign(
        id="incident.wait_user_near_deadline",
        name="Awaiting user near the SLA deadline",
        area="compliance",
        practice="service level management",
        unit="ratio",
        direction="lower",
        definition=(
            "Share of awaiting-user intervals that start in the last 20 % of the incident's resolution-SLA window "
            "(from opening to the deadline): position = (start − opened) ÷ (deadline − opened) between 0.8 and 1."
        ),
        benchmark=Benchmark(good=0.15, poor=0.30, source="no published benchmark; uniform waits would give 0.2"),
        needs=(*_PENDING_NEEDS, "ticket.due_at|sla_record|sla_target"),
        per_ticket=_wait_near_deadline,
    ),
    Sign(
        id="incident.wait_user_time_share",
        name="Time awaiting the user",
        area="compliance",
        practice="service level management",
        unit="ratio",
        direction="lower",
        definition="Awaiting-user time ÷ total open time, summed over all incidents' status intervals.",
        benchmark=Benchmark(good=0.10, poor=0.25, source="no published benchmark; ITSM Doctor working band"),
        needs=_PENDING_NEEDS,
        summary=_time_share_summary("awaiting_user"),
        finish=_time_share_finish,
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
        summary=_time_share_summary(None),
        finish=_time_share_finish,
    ),
)
