"""The records' own quality: how complete they are and how deep their history goes.

``records.completeness`` also lists, in its breakdowns, the capabilities the records reveal as
missing from the patient's tooling or practice (no history, no SLA, no problem links, no surveys).
"""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import of_type

__all__ = ["COMPLETENESS_FIELDS", "RECORDS_SIGNS"]

# Fields whose emptiness says something about the tooling (ids and times always exist).
COMPLETENESS_FIELDS = (
    "title",
    "category",
    "service_id",
    "ci_id",
    "channel",
    "priority",
    "impact",
    "urgency",
    "requester_id",
    "assigned_group_id",
    "assignee_id",
    "resolved_at",
    "closed_at",
    "resolution_code",
    "sla_met",
)


_CAPABILITIES = {
    "history": "no history: the export has no event log or audit trail",
    "sla": "no SLA: no target and no SLA outcome",
    "problem_links": "no problem links: incidents are never tied to problems",
    "surveys": "no surveys: customer satisfaction is not measured",
}


def _completeness(r: Records) -> ibis.Table:
    """One row: incidents and requests, how many fill each field, and the size of the tables
    that reveal a capability (history, SLA, problem links, surveys)."""
    t = r["ticket"]
    work = t.ticket_type.isin(("incident", "request"))
    aggs = {f: t[f].count(where=work) for f in COMPLETENESS_FIELDS}
    head = t.aggregate(
        n=work.ifelse(1, 0).sum(),
        sla_outcomes=t.sla_met.count(),
        problem_ids=t.problem_id.count(),
        **aggs,
    )
    sizes = {
        "events": r["event"].count().as_scalar(),
        "sla_rows": r["sla_record"].count().as_scalar() + r["sla_target"].count().as_scalar(),
        "links": r["link"].filter(_.relation == "problem_of").count().as_scalar(),
        "surveys": r["survey_response"].count().as_scalar(),
    }
    return head.mutate(**sizes)


def _completeness_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    row = table.to_pylist()[0]
    n = int(row["n"] or 0)
    if n == 0:
        return None, {"_reason": "no incident or request"}
    fields = {f: int(row[f] or 0) / n for f in COMPLETENESS_FIELDS}
    lacking = {
        "history": not row["events"],
        "sla": not (row["sla_rows"] or row["sla_outcomes"]),
        "problem_links": not (row["links"] or row["problem_ids"]),
        "surveys": not row["surveys"],
    }
    missing = [text for key, text in _CAPABILITIES.items() if lacking[key]]
    return sum(fields.values()) / len(fields), {"field": fields, "missing_capabilities": missing, "_n": n}


def _history(r: Records) -> ibis.Table:
    t = of_type(r, "incident").select("ticket_id")
    counts = r["event"].group_by("ticket_id").aggregate(events=_.count())
    j = t.left_join(counts, t.ticket_id == counts.ticket_id)
    return j.select(ticket_id=t.ticket_id, value=j.events.fill_null(0).cast("float64"))


RECORDS_SIGNS: tuple[Sign, ...] = (
    Sign(
        id="records.completeness",
        name="Records completeness",
        area="compliance",
        practice="records",
        unit="ratio",
        direction="higher",
        definition=(
            "Mean, over the canonical ticket fields that tell about the tooling (title, category, service, CI, "
            "channel, priority, impact, urgency, requester, group, assignee, resolved/closed times, resolution "
            "code, SLA outcome), of the share of incidents and requests where the field is filled; per field in "
            "the breakdowns."
        ),
        benchmark=Benchmark(good=0.80, poor=0.60, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket",),
        summary=_completeness,
        finish=_completeness_finish,
    ),
    Sign(
        id="records.history_depth",
        name="History depth",
        area="compliance",
        practice="records",
        unit="count",
        direction="higher",
        definition="Median number of events per incident (0 when the export has no history at all).",
        benchmark=Benchmark(good=4.0, poor=2.0, source="no published benchmark; ITSM Doctor working band"),
        needs=("ticket",),
        per_ticket=_history,
        aggregate="median",
    ),
)
