"""Service request signs: fulfilment time, request SLA, requests in the demand."""

from __future__ import annotations

import ibis

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import ratio_finish, type_counts
from itsm_doctor.signs.incident_time import resolution_hours
from itsm_doctor.signs.service_level import sla_outcome

__all__ = ["REQUEST_SIGNS"]


def _fulfilment(r: Records) -> ibis.Table:
    return resolution_hours(r, "request")


def _request_sla(r: Records) -> ibis.Table:
    return sla_outcome(r, "request")


REQUEST_SIGNS: tuple[Sign, ...] = (
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
        summary=type_counts,
        finish=ratio_finish("requests", ("incidents", "requests")),
    ),
)
