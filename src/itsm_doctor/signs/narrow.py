"""Narrower readings of what older signs read broadly: the silence after hand-over (not the
desk's first response), recurrence on the same CI (not on categories), and the share of
incidents carrying any problem link (not problem records per incident, which an export without
a problem table reads as 0). See docs/adr/0007-diagnosis-evidence-sufficiency-and-contrasts.md.
"""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import collapsed, hours_between, of_type, share

__all__ = ["NARROW_SIGNS"]

_RECUR_DAYS = 30
_MIN_CI = 30  # incidents naming a CI, and their share, before recurrence on CIs is read
_MIN_CI_SHARE = 0.2


def _silence_after_pickup(r: Records) -> ibis.Table:
    """Per resolved incident that reached a second group: the longest gap between events from
    the first hand-over to resolution (the desk's first response is left out)."""
    t = of_type(r, "incident").filter(_.resolved_at.notnull()).select("ticket_id", "resolved_at")
    # the second group to hold the incident (steps count from 0)
    c = collapsed(r, "to_group_id").filter(_.step == 1).select(tid=_.ticket_id, picked=_.ts)
    start = t.join(c, t.ticket_id == c.tid).select("ticket_id", "resolved_at", "picked")
    ev = r["event"].join(start, "ticket_id").filter((_.ts >= _.picked) & (_.ts <= _.resolved_at))
    w = ibis.window(group_by=ev.ticket_id, order_by=[ev.seq, ev.ts])
    ev = ev.mutate(gap=hours_between(ev.ts.lag().over(w), ev.ts))
    return ev.group_by("ticket_id").aggregate(value=_.gap.max().fill_null(0.0))


def _ci_recurrence(r: Records) -> ibis.Table:
    incidents = of_type(r, "incident").filter(_.opened_at.notnull())
    t = incidents.filter(_.ci_id.notnull())
    w = ibis.window(group_by=t.ci_id, order_by=[t.opened_at, t.ticket_id])
    t = t.mutate(prev_opened=t.opened_at.lag().over(w))
    recent = t.prev_opened.notnull() & (hours_between(t.prev_opened, t.opened_at) <= _RECUR_DAYS * 24)
    counts = t.aggregate(with_ci=_.count(), recurring=recent.ifelse(1, 0).sum())
    return counts.cross_join(incidents.aggregate(incidents=_.count()))


def _ci_recurrence_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    row = table.to_pylist()[0]
    with_ci, whole = int(row["with_ci"] or 0), int(row["incidents"] or 0)
    if with_ci < _MIN_CI or with_ci < _MIN_CI_SHARE * whole:
        return None, {"_reason": f"only {with_ci} of {whole} incidents name a configuration item"}
    return int(row["recurring"] or 0) / with_ci, {"incidents_with_ci": with_ci, "_n": with_ci}


def _problem_linked(r: Records) -> ibis.Table:
    t = of_type(r, "incident")
    links = r["link"].filter(_.relation == "problem_of").select(lid=_.to_ticket_id).distinct()
    j = t.left_join(links, t.ticket_id == links.lid)
    return j.select(ticket_id=t.ticket_id, value=share(j.problem_id.notnull() | j.lid.notnull()))


NARROW_SIGNS: tuple[Sign, ...] = (
    Sign(
        id="incident.silence_after_pickup",
        name="Longest silence after hand-over",
        area="quality",
        practice="incident management",
        unit="h",
        direction="lower",
        definition=(
            "Median, over resolved incidents that reached a second group, of the longest gap in hours between "
            "two consecutive events from the first hand-over to resolution: neglect by resolver groups, which "
            "the desk's first response never shows."
        ),
        benchmark=Benchmark(
            good=24.0,
            poor=48.0,
            source="issue 13's independent panel: healthy organisations 15–28 h; ITSM Doctor working band",
        ),
        needs=("event.to_group_id", "ticket.resolved_at"),
        per_ticket=_silence_after_pickup,
        aggregate="median",
    ),
    Sign(
        id="incident.ci_recurrence_rate",
        name="Recurrence on the same CI",
        area="quality",
        practice="problem management",
        unit="ratio",
        direction="lower",
        definition=(
            "Share of incidents opened within 30 days after another incident on the same configuration item. "
            "Only the CI: categories are too coarse (most incidents share one with a recent other). n/a when "
            "fewer than 30 incidents, or fewer than a fifth of them, name a CI."
        ),
        benchmark=Benchmark(
            good=0.15,
            poor=0.30,
            source="no published benchmark; the shared ServiceNow sample reads 0.125 on the incidents naming a CI; "
            "ITSM Doctor working band",
        ),
        needs=("ticket.ci_id",),
        summary=_ci_recurrence,
        finish=_ci_recurrence_finish,
    ),
    Sign(
        id="incident.problem_link_share",
        name="Incidents carrying a problem link",
        area="quality",
        practice="problem management",
        unit="ratio",
        direction="higher",
        definition=(
            "Share of incidents that carry a problem id or a problem link, whether or not the export holds the "
            "problem records themselves; a few per cent is what a working problem management looks like. n/a "
            "when no incident carries a link, even where problem records are exported: the records cannot tell an "
            "export without the field (BPIC 2014's incident file has none; BPIC 2013 exports its problems in logs "
            "of their own, with no link to the incidents) from a practice without links, so the diagnosis then "
            "rests on recurrence on the same CI."
        ),
        benchmark=Benchmark(
            good=0.01,
            poor=0.002,
            source="shared real logs: the ServiceNow sample links about 1.5 % of incidents (issue 13)",
        ),
        needs=("ticket.problem_id|link.relation=problem_of",),
        na_when="no incident carries a problem id or a problem link (the export may not carry the link)",
        per_ticket=_problem_linked,
    ),
)
