"""Process mining on the engine: directly-follows graphs, variants, handovers, case durations.

Everything here is an Ibis expression over the incidents' events (window functions and
aggregates, no Python loop over tickets), so it runs on DuckDB and on Spark alike.

- ``dfg(r, level="status" | "group")``: the directly-follows graph — one row per move
  ``from → to`` with its frequency and the median hours spent in ``from`` before the move
  (consecutive repeats of the same status or group collapsed).
- ``group_handovers(r)``: the handover network between groups (the group-level graph).
- ``variants(r)``: the most frequent status paths, with their tickets and share.
- ``case_durations(r)``: per incident, hours from its first to its last event.
"""

from __future__ import annotations

from typing import Literal

import ibis
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.common import collapsed, hours_between, of_incidents
from itsm_doctor.signs.process import variant_counts

__all__ = ["LEVELS", "case_durations", "dfg", "group_handovers", "status_dfg", "variants"]

LEVELS = {"status": "to_status", "group": "to_group_id"}


def dfg(r: Records, *, level: Literal["status", "group"] = "status") -> ibis.Table:
    """Directly-follows graph: ``from``, ``to``, ``count``, ``median_h`` (hours in ``from``
    before the move), most frequent first (ties by names)."""
    s = collapsed(r, LEVELS[level]).filter(_.prev.notnull())
    return (
        s.group_by(**{"from": s.prev, "to": s.node})
        .aggregate(count=_.count(), median_h=hours_between(s.prev_ts, s.ts).quantile(0.5))
        .order_by([ibis.desc("count"), "from", "to"])
    )


def status_dfg(r: Records) -> ibis.Table:
    """Moves between statuses (the status-level directly-follows graph)."""
    return dfg(r, level="status")


def group_handovers(r: Records) -> ibis.Table:
    """Handovers between groups: the group-level directly-follows graph (the handover network)."""
    return dfg(r, level="group")


def variants(r: Records, *, top: int = 10) -> ibis.Table:
    """The ``top`` most frequent status paths: ``path``, ``tickets``, ``share`` of incidents
    with a status history."""
    counted = variant_counts(r)
    total = counted.tickets.sum().as_scalar()
    return (
        counted.mutate(share=counted.tickets.cast("float64") / total)
        .order_by([ibis.desc("tickets"), "path"])
        .limit(top)
    )


def case_durations(r: Records) -> ibis.Table:
    """Per incident with events: ``events`` and ``hours`` from the first to the last event."""
    ev = of_incidents(r, "event")
    per = ev.group_by("ticket_id").aggregate(events=_.count(), first=_.ts.min(), last=_.ts.max())
    return per.select("ticket_id", "events", hours=hours_between(per.first, per.last))
