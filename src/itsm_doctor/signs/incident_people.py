"""Incident signs about people and customers: key persons, recurrence, changes as causes,
silence, consistency, satisfaction."""

from __future__ import annotations

import math
import statistics
from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import hours_between, of_type, share

__all__ = ["INCIDENT_PEOPLE_SIGNS"]

_RECUR_DAYS = 30
_MIN_SERVICE_TICKETS = 20
_MIN_CATEGORY_TICKETS = 20


def _resolutions_by_agent(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull() & _.assignee_id.notnull())
    return t.group_by(agent=t.assignee_id).aggregate(n=_.count())


def _concentration_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    counts = sorted((int(x) for x in table["n"].to_pylist()), reverse=True)
    if len(counts) < 2:
        return None, {"_reason": "fewer than two agents resolved incidents"}
    top = max(1, math.ceil(0.1 * len(counts)))
    return sum(counts[:top]) / sum(counts), {"agents": len(counts), "top_agents": top, "_n": sum(counts)}


def _service_agents(r: Records) -> ibis.Table:
    """Per service: resolved incidents, and how many of them its busiest agent resolved."""
    t = of_type(r, "incident").filter(_.resolved_at.notnull() & _.assignee_id.notnull() & _.service_id.notnull())
    per_agent = t.group_by(service=t.service_id, agent=t.assignee_id).aggregate(n=_.count())
    return per_agent.group_by("service").aggregate(n=_.n.sum(), top=_.n.max())


def _single_agent_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    big = [row for row in table.to_pylist() if int(row["n"]) >= _MIN_SERVICE_TICKETS]
    if not big:
        return None, {"_reason": f"no service with {_MIN_SERVICE_TICKETS} resolved incidents"}
    hit = sorted(str(row["service"]) for row in big if int(row["top"]) / int(row["n"]) > 0.5)
    return len(hit) / len(big), {"services": len(big), "single_agent_services": hit[:20], "_n": len(big)}


def _recurring(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.opened_at.notnull())
    t = t.mutate(key=t.ci_id.coalesce(t.service_id, t.category))
    t = t.filter(_.key.notnull())
    w = ibis.window(group_by=t.key, order_by=[t.opened_at, t.ticket_id])
    t = t.mutate(prev_opened=t.opened_at.lag().over(w))
    links = r["link"].filter(_.relation == "problem_of").select(lid=_.to_ticket_id).distinct()
    j = t.left_join(links, t.ticket_id == links.lid)
    recent = j.prev_opened.notnull() & (hours_between(j.prev_opened, j.opened_at) <= _RECUR_DAYS * 24)
    unlinked = j.problem_id.isnull() & j.lid.isnull()
    return j.select("ticket_id", value=share(recent & unlinked))


def _change_induced(r: Records) -> ibis.Table:
    t = of_type(r, "incident")
    caused = r["link"].filter(_.relation == "caused_by").select(cid=_.from_ticket_id).distinct()
    j = t.left_join(caused, t.ticket_id == caused.cid)
    return j.select("ticket_id", value=share(j.caused_by_change_id.notnull() | j.cid.notnull()))


def _longest_silence(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull()).select("ticket_id", "opened_at", "resolved_at")
    ev = r["event"].join(t, "ticket_id").filter((_.ts >= _.opened_at) & (_.ts <= _.resolved_at))
    w = ibis.window(group_by=ev.ticket_id, order_by=[ev.seq, ev.ts])
    ev = ev.mutate(gap=hours_between(ev.ts.lag().over(w), ev.ts))
    return ev.group_by("ticket_id").aggregate(value=_.gap.max().fill_null(0.0))


def _category_stats(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull() & _.category.notnull())
    h = hours_between(t.opened_at, t.resolved_at)
    return t.group_by(category=t.category).aggregate(n=_.count(), mean=h.mean(), sd=h.std(how="pop"))


def _cv_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    rows = [x for x in table.to_pylist() if x["n"] >= _MIN_CATEGORY_TICKETS and x["mean"]]
    if not rows:
        return None, {"_reason": f"no category with {_MIN_CATEGORY_TICKETS} resolved incidents"}
    cvs = {str(x["category"]): x["sd"] / x["mean"] for x in rows}
    return statistics.median(cvs.values()), {"category": cvs, "_n": sum(x["n"] for x in rows)}


def _surveys(r: Records) -> ibis.Table:
    s = r["survey_response"].filter(_.answered_at.notnull() & _.score_norm.notnull())
    return s.group_by("ticket_id").aggregate(score=_.score_norm.mean())


def _satisfaction(r: Records) -> ibis.Table:
    inc = of_type(r, "incident").select("ticket_id")
    s = _surveys(r)
    return s.join(inc, "ticket_id").select("ticket_id", value=_.score)


def _survey_rate(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull())
    s = _surveys(r)
    j = t.left_join(s, t.ticket_id == s.ticket_id)
    return j.select(ticket_id=t.ticket_id, value=share(j.score.notnull()))


def _out_of_scope(r: Records) -> ibis.Table:
    t = of_type(r, "incident").filter(_.resolved_at.notnull() & _.resolution_code.notnull())
    # two equalities, not isin(): share() would compile "x IN (…) IS NULL", which Spark cannot parse
    return t.select("ticket_id", value=share((t.resolution_code == "rejected") | (t.resolution_code == "no_fault")))


INCIDENT_PEOPLE_SIGNS: tuple[Sign, ...] = (
    Sign(
        id="incident.key_person_concentration",
        name="Resolutions by the top 10 % of agents",
        area="value",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Share of resolved incidents (by the assignee at resolution) resolved by the top 10 % of agents "
            "(at least one agent), ranked by resolutions."
        ),
        benchmark=Benchmark(good=0.25, poor=0.45, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.assignee_id", "ticket.resolved_at"),
        summary=_resolutions_by_agent,
        finish=_concentration_finish,
    ),
    Sign(
        id="incident.single_agent_service_share",
        name="Services carried by one agent",
        area="value",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Of the services with ≥ 20 resolved incidents, the share where a single agent resolved more than half."
        ),
        benchmark=Benchmark(good=0.10, poor=0.30, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.assignee_id", "ticket.service_id"),
        summary=_service_agents,
        finish=_single_agent_finish,
    ),
    Sign(
        id="incident.recurring_rate",
        name="Recurring incidents without a problem",
        area="quality",
        practice="problem management",
        unit="ratio",
        direction="lower",
        definition=(
            "Share of incidents opened within 30 days after another incident on the same CI (else service, else "
            "category) and linked to no problem (no problem id, no problem link)."
        ),
        benchmark=Benchmark(good=0.10, poor=0.25, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.ci_id|ticket.service_id|ticket.category",),
        per_ticket=_recurring,
    ),
    Sign(
        id="incident.change_induced_share",
        name="Incidents caused by changes",
        area="quality",
        practice="change enablement",
        unit="ratio",
        direction="lower",
        definition="Share of incidents linked to the change that caused them (caused-by change id or link).",
        benchmark=Benchmark(
            good=0.05,
            poor=0.15,
            source="no published norm; Visible Ops (IT Process Institute) cites IDC: 80% of outages follow operator "
            "and application errors",
        ),
        needs=("ticket.caused_by_change_id|link.relation=caused_by",),
        per_ticket=_change_induced,
    ),
    Sign(
        id="incident.longest_silence",
        name="Longest silence while open",
        area="quality",
        practice="incident management",
        unit="h",
        direction="lower",
        definition=(
            "Median, over resolved incidents, of the longest gap in hours between two consecutive events "
            "between opening and resolution."
        ),
        benchmark=Benchmark(good=24.0, poor=72.0, source="no published benchmark; ITSM Doctor working band"),
        needs=("event",),
        per_ticket=_longest_silence,
        aggregate="median",
    ),
    Sign(
        id="incident.resolution_time_cv",
        name="Inconsistency of resolution time",
        area="quality",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Median, over categories with ≥ 20 resolved incidents, of the coefficient of variation (population "
            "standard deviation ÷ mean) of hours to resolve."
        ),
        benchmark=Benchmark(good=1.0, poor=2.0, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.category", "ticket.resolved_at"),
        summary=_category_stats,
        finish=_cv_finish,
    ),
    Sign(
        id="incident.customer_satisfaction",
        name="Customer satisfaction",
        area="value",
        practice="relationship management",
        unit="ratio",
        direction="higher",
        definition="Mean normalised survey score (0 = worst, 1 = best) of answered surveys on incidents.",
        benchmark=Benchmark(
            good=0.85,
            poor=0.70,
            source="no published benchmark verified; ServiceNow Benchmarks define average customer satisfaction",
        ),
        needs=("survey_response.score_norm",),
        per_ticket=_satisfaction,
    ),
    Sign(
        id="incident.survey_response_rate",
        name="Survey response rate",
        area="value",
        practice="relationship management",
        unit="ratio",
        direction="higher",
        definition="Share of resolved incidents with an answered satisfaction survey.",
        benchmark=Benchmark(good=0.20, poor=0.05, source="no published benchmark; ITSM Doctor working band"),
        needs=("survey_response",),
        per_ticket=_survey_rate,
    ),
    Sign(
        id="incident.out_of_scope_rate",
        name="Resolved as out of scope",
        area="value",
        practice="service desk",
        unit="ratio",
        direction="lower",
        definition=(
            "Share of resolved incidents (with a resolution code) closed as out of scope: rejected, referred "
            "elsewhere, not supported (code rejected) or no fault — works as designed, user error (code no_fault). "
            "Closure codes are read through the closure-code vocabulary (docs/records.md); n/a when no code of "
            "the records maps to anything but other."
        ),
        benchmark=Benchmark(good=0.03, poor=0.10, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.resolution_code!=other",),
        na_when="no closure code of these records is in the closure-code vocabulary, so out of scope cannot be told",
        per_ticket=_out_of_scope,
    ),
)
