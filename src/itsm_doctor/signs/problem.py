"""Problem management signs: incidents linked to problems, problem records, open problem age."""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pyarrow as pa
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import hours_between, of_type, period_end, ratio_finish, share, type_counts

__all__ = ["PROBLEM_SIGNS"]


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


PROBLEM_SIGNS: tuple[Sign, ...] = (
    Sign(
        id="problem.incident_link_rate",
        name="Incidents linked to a problem",
        area="compliance",
        practice="problem management",
        unit="ratio",
        direction="higher",
        definition=(
            "Share of incidents linked to a problem record (problem id or problem link). n/a when no incident "
            "carries either, even where problem records are exported: an empty link column cannot be told from a "
            "column the export left out (BPIC 2013's incident log has none beside its problem logs)."
        ),
        benchmark=Benchmark(good=0.15, poor=0.03, source="no published benchmark; ServiceNow Benchmarks define it"),
        needs=("ticket.problem_id|link.relation=problem_of",),
        na_when="no incident carries a problem id or a problem link (the export may not carry the link)",
        per_ticket=_problem_linked,
    ),
    Sign(
        id="problem.records_per_100_incidents",
        name="Problem records per 100 incidents",
        area="compliance",
        practice="problem management",
        unit="count",
        direction="higher",
        definition=(
            "Problem records ÷ incident records × 100, over the whole period of the records. n/a when the "
            "export holds no problem record: incidents that name a problem id show problem links "
            "(problem.incident_link_rate), not how many problems were recorded."
        ),
        benchmark=Benchmark(good=2.0, poor=0.3, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket.ticket_type=problem",),
        na_when="the export has no problem table (incidents' problem ids count for problem.incident_link_rate)",
        summary=type_counts,
        finish=ratio_finish("problems", ("incidents",), 100.0),
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
)
