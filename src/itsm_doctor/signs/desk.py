"""Service desk signs: first contact resolution, first line, escalation speed, consistency."""

from __future__ import annotations

import statistics
from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Detail, Sign
from itsm_doctor.signs.common import hours_between, of_incidents, of_type, share, tier_reach
from itsm_doctor.signs.incident import reassignments

__all__ = ["DESK_SIGNS"]

_QUICK_MINUTES = 15
_MIN_AGENT_TICKETS = 20
# What answers a ticket: the desk moves it (status, group, assignee, resolution, closure) or
# writes on it; an activity of unknown kind (generic XES) is the organisation acting on it.
# A priority or category change is triage, a customer's reply or an SLA clock is not the desk.
_RESPONSE_KINDS = (
    "status_change",
    "group_change",
    "assignee_change",
    "comment_public",
    "comment_internal",
    "resolve",
    "close",
    "activity",
)


def _flagged_interactions(r: Records) -> bool:
    """Whether the desk's contacts carry the source's own first-contact flag (BPIC 2014) and the
    export holds contacts that did not become incidents: an export of the interactions behind
    its incidents only would read 0 % by construction."""
    i = of_type(r, "interaction").filter(_.first_contact_resolved.notnull()).select("ticket_id")
    led = r["link"].filter(_.relation == "originated_from").select(origin=_.to_ticket_id)
    standalone = i.anti_join(led, i.ticket_id == led.origin)
    return bool(r.execute(standalone.count()))


def _fcr(r: Records) -> ibis.Table:
    if r.fact("flagged_interactions", lambda: _flagged_interactions(r)):
        # the desk's own count of its contacts; an incident is what an unresolved contact became
        i = of_type(r, "interaction").filter(_.first_contact_resolved.notnull())
        return i.select("ticket_id", value=share(i.first_contact_resolved))
    t = of_type(r, "incident").filter(_.resolved_at.notnull())
    p = reassignments(r)
    j = t.left_join(p, t.ticket_id == p.ticket_id)
    # no reassignment by the history nor by the source's counter (the larger of both)
    return j.select(ticket_id=t.ticket_id, value=share(j.first_contact_resolved).coalesce(share(j.reassignments == 0)))


def _fcr_summary(r: Records) -> ibis.Table:
    led = r["link"].filter(_.relation == "originated_from").select(origin=_.to_ticket_id).distinct()
    t = r["ticket"].left_join(led, _.ticket_id == led.origin)
    flagged = (t.ticket_type == "interaction") & t.first_contact_resolved.notnull()
    return t.aggregate(
        interactions_with_flag=flagged.ifelse(1, 0).sum(),
        interactions_led_to_incident=(flagged & t.origin.notnull()).ifelse(1, 0).sum(),
        incidents_with_flag=((t.ticket_type == "incident") & t.first_contact_resolved.notnull()).ifelse(1, 0).sum(),
        incidents_with_counter=((t.ticket_type == "incident") & t.reassignment_count.notnull()).ifelse(1, 0).sum(),
    )


def _fcr_detail(table: pa.Table) -> tuple[dict[str, Any], str | None]:
    row = {k: int(v or 0) for k, v in table.to_pylist()[0].items()}
    selected = row["interactions_with_flag"] and row["interactions_led_to_incident"] == row["interactions_with_flag"]
    if selected:
        basis = "incidents"
        note = (
            f"every one of the {row['interactions_with_flag']:,} flagged interactions led to an incident (the "
            "export holds the contacts behind its incidents only), so the desk's flag would read 0 % by "
            "construction: measured on resolved incidents"
        )
    elif row["interactions_with_flag"]:
        basis = "interactions"
        note = (
            f"measured on the {row['interactions_with_flag']:,} service-desk interactions carrying the source's "
            "own first-contact flag"
        )
    elif row["incidents_with_counter"]:
        basis, note = "incidents", "no reassignment by the group history nor by the source's reassignment_count"
    else:
        basis, note = "incidents", None
    return {**row, "measured_on": basis}, note


def _first_line_only(r: Records) -> ibis.Table:
    reach = tier_reach(r)
    return reach.select("ticket_id", value=share(reach.max_tier == 1))


def _quick_escalation(r: Records) -> ibis.Table:
    reach = tier_reach(r).filter(_.first_t1.notnull() & _.first_above.notnull() & (_.first_above > _.first_t1))
    minutes = hours_between(reach.first_t1, reach.first_above) * 60
    return reach.select("ticket_id", value=share(minutes <= _QUICK_MINUTES))


def _first_response(r: Records) -> ibis.Table:
    t = of_type(r, "incident")
    ev = r["event"].filter(_.kind.isin(_RESPONSE_KINDS))
    later = ev.join(t.select("ticket_id", "opened_at"), "ticket_id").filter(_.ts > _.opened_at)
    first = later.group_by("ticket_id").aggregate(first_ts=_.ts.min())
    j = t.left_join(first, t.ticket_id == first.ticket_id)
    start = j.first_response_at.coalesce(j.first_ts)
    return j.select(ticket_id=t.ticket_id, value=hours_between(j.opened_at, start))


def _agents_summary(r: Records) -> ibis.Table:
    """Per agent who first took a tier-1 ticket: tickets taken and share kept in tier 1."""
    ev = of_incidents(r, "event").filter(_.to_agent_id.notnull())
    # a ticket's events are numbered by seq: the first agent is the one with the lowest
    # (an aggregate, where a window would sort every event)
    first = ev.group_by("ticket_id").aggregate(agent=ev.to_agent_id.argmin(ev.seq))
    reach = tier_reach(r).filter(_.min_tier == 1)
    j = first.join(reach, "ticket_id")
    return j.group_by("agent").aggregate(n=_.count(), kept=(j.max_tier == 1).ifelse(1, 0).sum())


def _agents_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    rows = [r for r in table.to_pylist() if r["n"] >= _MIN_AGENT_TICKETS]
    if len(rows) < 2:
        return None, {"_reason": f"fewer than two tier-1 agents with {_MIN_AGENT_TICKETS} tickets"}
    shares = [r["kept"] / r["n"] for r in rows]
    mean = statistics.fmean(shares)
    per_agent = {str(r["agent"]): {"value": r["kept"] / r["n"], "n": r["n"]} for r in rows}
    extra = {"agent": per_agent, "_n": sum(r["n"] for r in rows)}
    if mean <= 0:  # a coefficient of variation needs a mean to divide by
        return None, extra | {"_reason": "no tier-1 agent kept a ticket in tier 1"}
    return statistics.pstdev(shares) / mean, extra


DESK_SIGNS: tuple[Sign, ...] = (
    Sign(
        id="desk.first_contact_resolution",
        name="First contact resolution",
        area="quality",
        practice="service desk",
        unit="ratio",
        direction="higher",
        definition=(
            "Share of contacts resolved at the first contact. Where the service desk's interactions carry the "
            "source's own first-contact flag (BPIC 2014 First Call Resolution), the share of those interactions "
            "flagged resolved — unless every one of them led to an incident (an export of the contacts behind "
            "its incidents only reads 0 % by construction). Else, over resolved incidents: an incident's own "
            "flag when it has one, else no reassignment — neither in the group history nor by the source's "
            "reassignment count (the larger of both, as incident.reassignment_rate)."
        ),
        benchmark=Benchmark(
            good=0.70,
            poor=0.55,
            source=(
                "HDI research brief 'External customer-facing technical support metrics' (Aug 2013, 196 "
                "organisations): first call resolution 64.1% average; a 71% average per the 2013 HDI Support "
                "Center Practices & Salary Report, as cited by Boston College's FCR standard (2014)"
            ),
        ),
        needs=("ticket.resolved_at|ticket.first_contact_resolved",),
        per_ticket=_fcr,
        detail=Detail(summary=_fcr_summary, finish=_fcr_detail),
    ),
    Sign(
        id="desk.first_line_only_rate",
        name="First-line-only share",
        area="performance",
        practice="service desk",
        unit="ratio",
        direction="higher",
        definition=(
            "Share of incidents (whose groups have a known tier) handled only by tier-1 groups: every group "
            "that held the ticket is tier 1. BPIC 2013's 'push to front' question."
        ),
        benchmark=Benchmark(
            good=0.75,
            poor=0.55,
            source=(
                "no published benchmark verified; MetricNet tracks Level 1 resolution rate as a core "
                "service-desk KPI (webcast 'Service Desk First Level Resolution'); ITSM Doctor working band"
            ),
        ),
        needs=("group.tier", "event.to_group_id"),
        per_ticket=_first_line_only,
    ),
    Sign(
        id="desk.quick_escalation_rate",
        name="Quick escalation from the first line",
        area="performance",
        practice="service desk",
        unit="ratio",
        direction="lower",
        definition=(
            "Of the incidents that left tier 1 for a higher tier, the share that left within 15 minutes of "
            "first reaching a tier-1 group: escalated before the first line could try."
        ),
        benchmark=Benchmark(good=0.20, poor=0.50, source="no published benchmark; ITSM Doctor working band"),
        needs=("group.tier", "event.to_group_id"),
        per_ticket=_quick_escalation,
    ),
    Sign(
        id="desk.agent_inconsistency",
        name="Inconsistency between first-line agents",
        area="quality",
        practice="service desk",
        unit="ratio",
        direction="lower",
        definition=(
            "For each agent who first took incidents in a tier-1 group (≥ 20 tickets), the share of those "
            "tickets kept in tier 1; the sign is the coefficient of variation (population standard deviation "
            "÷ mean) of these shares across agents. High when agents of one desk handle the same work differently."
        ),
        benchmark=Benchmark(good=0.15, poor=0.35, source="no published benchmark; ITSM Doctor working band"),
        needs=("group.tier", "event.to_agent_id"),
        summary=_agents_summary,
        finish=_agents_finish,
    ),
    Sign(
        id="desk.time_to_first_response",
        name="Time to first response",
        area="performance",
        practice="service desk",
        unit="h",
        direction="lower",
        definition=(
            "Median hours from an incident's opening to its first response: the source's first-response time "
            "when recorded, else the first assignment, status change or comment after creation (a change of "
            "status, group or assignee, a resolution, closure or comment, or an activity of unknown kind; not a "
            "priority or category change, a customer's reply or an SLA clock event)."
        ),
        benchmark=Benchmark(good=1.0, poor=8.0, source="no published benchmark verified; ITSM Doctor working band"),
        needs=("ticket.opened_at", "event"),
        per_ticket=_first_response,
        aggregate="median",
    ),
)
