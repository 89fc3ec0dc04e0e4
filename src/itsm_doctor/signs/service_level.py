"""Service level signs: resolution SLA met, and how the awaiting-user clock is used near it."""

from __future__ import annotations

import ibis
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import (
    PENDING_NEEDS,
    WAIT_USER_NA,
    hours_between,
    incident_intervals,
    of_type,
    share,
    time_share_finish,
    time_share_summary,
)

__all__ = ["SERVICE_LEVEL_SIGNS", "resolution_deadline", "sla_outcome"]

_NEAR = 0.8  # the last 20 % of the SLA window


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


def _wait_near_deadline(r: Records) -> ibis.Table:
    si = incident_intervals(r).filter(_.pending_reason == "awaiting_user")
    d = resolution_deadline(r, of_type(r, "incident")).filter(_.deadline.notnull()).rename(did="ticket_id")
    j = si.join(d, si.ticket_id == d.did)
    window_s = hours_between(j.opened_at, j.deadline)
    pos = hours_between(j.opened_at, j.start) / window_s
    near = (pos >= _NEAR) & (pos <= 1.0)
    return j.filter(window_s > 0).select("ticket_id", value=share(near))


SERVICE_LEVEL_SIGNS: tuple[Sign, ...] = (
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
        needs=(*PENDING_NEEDS, "ticket.due_at|sla_record|sla_target"),
        na_when=WAIT_USER_NA,
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
        needs=PENDING_NEEDS,
        na_when=WAIT_USER_NA,
        summary=time_share_summary("awaiting_user"),
        finish=time_share_finish,
    ),
)
