"""Change enablement signs: success, emergency changes, incidents caused, lead time."""

from __future__ import annotations

import ibis
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import hours_between, of_type, ratio_finish, share, type_counts

__all__ = ["CHANGE_SIGNS"]


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


CHANGE_SIGNS: tuple[Sign, ...] = (
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
            good=0.05,
            poor=0.15,
            source="no published benchmark; ServiceNow Benchmarks define % emergency changes; ITSM Doctor working band",
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
        summary=type_counts,
        finish=ratio_finish("caused", ("changes",)),
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
