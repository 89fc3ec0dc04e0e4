"""Service request, problem and change enablement signs."""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pyarrow as pa
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import hours_between, of_type, period_end, share
from itsm_doctor.signs.incident import sla_outcome
from itsm_doctor.signs.incident_time import resolution_hours

__all__ = ["PRACTICE_SIGNS"]


def _fulfilment(r: Records) -> ibis.Table:
    return resolution_hours(r, "request")


def _request_sla(r: Records) -> ibis.Table:
    return sla_outcome(r, "request")


def _type_counts(r: Records) -> ibis.Table:
    t = r["ticket"]
    return t.aggregate(
        incidents=(t.ticket_type == "incident").ifelse(1, 0).sum(),
        requests=(t.ticket_type == "request").ifelse(1, 0).sum(),
        problems=(t.ticket_type == "problem").ifelse(1, 0).sum(),
        changes=(t.ticket_type == "change").ifelse(1, 0).sum(),
        caused=(t.caused_by_change_id.notnull() & (t.ticket_type == "incident")).ifelse(1, 0).sum(),
    )


def _ratio(numerator: str, denominators: tuple[str, ...], scale: float = 1.0) -> Any:
    def finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
        row = table.to_pylist()[0]
        whole = sum(int(row[d] or 0) for d in denominators)
        if whole == 0:
            return None, {"_reason": f"no {' or '.join(denominators)} in these records"}
        return scale * int(row[numerator] or 0) / whole, {k: int(v or 0) for k, v in row.items()} | {"_n": whole}

    return finish


def _problem_linked(r: Records) -> ibis.Table:
    t = of_type(r, "incident")
    links = r["link"].filter(_.relation == "problem_of").select(lid=_.to_ticket_id).distinct()
    j = t.left_join(links, t.ticket_id == links.lid)
    return j.select("ticket_id", value=share(j.problem_id.notnull() | j.lid.notnull()))


def _open_problem_ages(r: Records) -> ibis.Table:
    p = of_type(r, "problem").filter(_.opened_at.notnull() & _.resolved_at.isnull() & _.closed_at.isnull())
    j = p.cross_join(period_end(r))
    return j.select(age=hours_between(j.opened_at, j.period_end))


def _median_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    ages = np.asarray(table["age"].to_numpy(zero_copy_only=False), dtype=float)
    if len(ages) == 0:
        return None, {"_reason": "no open problem at the end of the records"}
    return float(np.median(ages)), {"open_problems": len(ages), "_n": len(ages)}


def _change_success(r: Records) -> ibis.Table:
    c = of_type(r, "change").filter(_.change_outcome.notnull() & (_.change_outcome != "cancelled"))
    return c.select("ticket_id", value=share(c.change_outcome == "successful"))


def _emergency(r: Records) -> ibis.Table:
    c = of_type(r, "change").filter(_.change_type.notnull())
    return c.select("ticket_id", value=share(c.change_type == "emergency"))


def _change_lead(r: Records) -> ibis.Table:
    c = of_type(r, "change").filter(_.opened_at.notnull())
    end = c.closed_at.coalesce(c.resolved_at, c.actual_end)
    return c.select("ticket_id", value=hours_between(c.opened_at, end))


PRACTICE_SIGNS: tuple[Sign, ...] = (
    Sign(
        id="request.fulfilment_time",
        name="Time to fulfil a request (median)",
        area="performance",
        practice="service request management",
        unit="h",
        direction="lower",
        definition="Median calendar hours from opening to resolution of fulfilled service requests.",
        benchmark=Benchmark(good=24.0, poor=120.0, source="no published benchmark; ServiceNow Benchmarks define it"),
        needs=("ticket.ticket_type=request",),
        per_ticket=_fulfilment,
        aggregate="median",
    ),
    Sign(
        id="request.sla_compliance",
        name="Request SLA compliance",
        area="compliance",
        practice="service request management",
        unit="ratio",
        direction="higher",
        definition=(
            "Share of service requests with a fulfilment SLA that met it (same rules as incident SLA compliance)."
        ),
        benchmark=Benchmark(good=0.90, poor=0.75, source="no published benchmark; ServiceNow Benchmarks define it"),
        needs=("ticket.ticket_type=request", "ticket.sla_met|sla_record|sla_target"),
        per_ticket=_request_sla,
    ),
    Sign(
        id="request.share_of_demand",
        name="Requests in the demand",
        area="value",
        practice="service request management",
        unit="ratio",
        direction="higher",
        definition="Service requests ÷ (incidents + service requests): low when requests are logged as incidents.",
        benchmark=Benchmark(good=0.40, poor=0.15, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.ticket_type=request",),
        summary=_type_counts,
        finish=_ratio("requests", ("incidents", "requests")),
    ),
    Sign(
        id="problem.incident_link_rate",
        name="Incidents linked to a problem",
        area="compliance",
        practice="problem management",
        unit="ratio",
        direction="higher",
        definition="Share of incidents linked to a problem record (problem id or problem link).",
        benchmark=Benchmark(good=0.15, poor=0.03, source="no published benchmark; ServiceNow Benchmarks define it"),
        needs=("ticket.ticket_type=problem|ticket.problem_id|link.relation=problem_of",),
        per_ticket=_problem_linked,
    ),
    Sign(
        id="problem.records_per_100_incidents",
        name="Problem records per 100 incidents",
        area="compliance",
        practice="problem management",
        unit="count",
        direction="higher",
        definition="Problem records ÷ incident records × 100, over the whole period of the records.",
        benchmark=Benchmark(good=2.0, poor=0.3, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.ticket_type=problem|ticket.problem_id",),
        summary=_type_counts,
        finish=_ratio("problems", ("incidents",), 100.0),
    ),
    Sign(
        id="problem.open_age_median",
        name="Age of open problems (median)",
        area="performance",
        practice="problem management",
        unit="h",
        direction="lower",
        definition=(
            "Median age in hours of problems neither resolved nor closed at the end of the records (the latest "
            "opening, resolution or closure of any ticket)."
        ),
        benchmark=Benchmark(
            good=1440.0, poor=4320.0, source="Pink Elephant 2012: problems closed after 4.4 months on average"
        ),
        needs=("ticket.ticket_type=problem",),
        summary=_open_problem_ages,
        finish=_median_finish,
    ),
    Sign(
        id="change.success_rate",
        name="Change success rate",
        area="quality",
        practice="change enablement",
        unit="ratio",
        direction="higher",
        definition=(
            "Share of changes with an outcome (cancelled ones left out) that succeeded: not failed, backed out "
            "or partial. DORA's change failure rate is its complement."
        ),
        benchmark=Benchmark(good=0.85, poor=0.60, source="DORA 2019: change failure rate 0–15% elite, 46–60% low"),
        needs=("ticket.change_outcome",),
        per_ticket=_change_success,
    ),
    Sign(
        id="change.emergency_share",
        name="Emergency changes",
        area="compliance",
        practice="change enablement",
        unit="ratio",
        direction="lower",
        definition="Share of change records of type emergency among the changes whose type is recorded.",
        benchmark=Benchmark(
            good=0.05, poor=0.15, source="practitioners' targets 5–8% (itilcommunity.com); no standard"
        ),
        needs=("ticket.change_type",),
        per_ticket=_emergency,
    ),
    Sign(
        id="change.incidents_per_change",
        name="Incidents caused per change",
        area="quality",
        practice="change enablement",
        unit="count",
        direction="lower",
        definition="Incidents with a causing change ÷ change records.",
        benchmark=Benchmark(good=0.05, poor=0.20, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.ticket_type=change", "ticket.caused_by_change_id"),
        summary=_type_counts,
        finish=_ratio("caused", ("changes",)),
    ),
    Sign(
        id="change.lead_time",
        name="Change lead time (median)",
        area="performance",
        practice="change enablement",
        unit="h",
        direction="lower",
        definition="Median hours from a change's creation to its closure (else resolution, else actual end).",
        benchmark=Benchmark(good=72.0, poor=336.0, source="no published benchmark; ServiceNow Benchmarks define it"),
        needs=("ticket.ticket_type=change",),
        per_ticket=_change_lead,
        aggregate="median",
    ),
)
