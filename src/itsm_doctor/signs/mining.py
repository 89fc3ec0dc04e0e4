"""Process mining on the engine: directly-follows graphs (statuses, groups) and variants."""

from __future__ import annotations

import ibis
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.common import hours_between, of_type

__all__ = ["group_handovers", "status_dfg", "variants"]


def _collapsed(r: Records, column: str) -> ibis.Table:
    inc = of_type(r, "incident").select("ticket_id")
    ev = r["event"].filter(_[column].notnull()).join(inc, "ticket_id")
    w = ibis.window(group_by=ev.ticket_id, order_by=[ev.seq, ev.ts])
    ev = ev.mutate(prev=ev[column].lag().over(w))
    steps = ev.filter(ev.prev.isnull() | (ev.prev != ev[column]))
    w2 = ibis.window(group_by=steps.ticket_id, order_by=[steps.seq, steps.ts])
    return steps.mutate(node=steps[column], prev_ts=steps.ts.lag().over(w2), step=ibis.row_number().over(w2))


def status_dfg(r: Records) -> ibis.Table:
    """Moves between statuses: from, to, count, median hours spent in ``from`` before the move."""
    s = _collapsed(r, "to_status").filter(_.prev.notnull())
    return (
        s.group_by(**{"from": s.prev, "to": s.node})
        .aggregate(count=_.count(), median_h=hours_between(s.prev_ts, s.ts).quantile(0.5))
        .order_by(ibis.desc("count"))
    )


def group_handovers(r: Records) -> ibis.Table:
    """Handovers between groups: from, to, count (the handover network)."""
    s = _collapsed(r, "to_group_id").filter(_.prev.notnull())
    return s.group_by(**{"from": s.prev, "to": s.node}).aggregate(count=_.count()).order_by(ibis.desc("count"))


def variants(r: Records, *, top: int = 10) -> ibis.Table:
    """The most frequent status paths with their ticket counts."""
    s = _collapsed(r, "to_status")
    ordered = ibis.struct({"step": s.step, "node": s.node}).collect().sort()
    paths = s.group_by("ticket_id").aggregate(path=ordered.map(lambda x: x.node).join(" > "))
    return paths.group_by("path").aggregate(tickets=_.count()).order_by([ibis.desc("tickets"), "path"]).limit(top)
