"""Process signs: lifecycle conformance, closing without resolving, variants, backward moves."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import ibis
import pyarrow as pa
import yaml
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import Benchmark, Sign
from itsm_doctor.signs.common import collapsed, share

__all__ = ["PROCESS_SIGNS", "lifecycle", "status_moves", "status_path", "variant_counts"]

# Lifecycle order for backward moves. A return to "assigned" is a handover to another queue,
# not rework, so it ranks with in_progress and pending.
_RANK = {"new": 0, "assigned": 2, "in_progress": 2, "pending": 2, "resolved": 3, "closed": 4, "cancelled": 4}


@cache
def lifecycle() -> dict[str, Any]:
    """The reference lifecycle (``lifecycle.yaml``): allowed starts and moves."""
    text = (resources.files("itsm_doctor.signs") / "lifecycle.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def status_path(r: Records) -> ibis.Table:
    """Per incident status change (consecutive repeats collapsed): ``ticket_id``, ``step``,
    ``status`` and ``prev`` (the status before)."""
    c = collapsed(r, "to_status")
    return c.select("ticket_id", "step", status=c.node, prev=c.prev)


def _allowed(previous: ibis.Column, status: ibis.Column) -> ibis.Column:
    """Whether the move previous → status is in the lifecycle ("" is the start); literals
    rather than a lookup table, so the expression needs nothing registered on the backend."""
    spec = lifecycle()
    pairs = [("", s) for s in spec["starts"]] + [(a, b) for a, tos in spec["moves"].items() for b in tos]
    by_origin: dict[str, list[str]] = {}
    for a, b in pairs:
        by_origin.setdefault(a, []).append(b)
    return ibis.or_(*((previous == a) & status.isin(tos) for a, tos in by_origin.items()))


def status_moves(r: Records) -> ibis.Table:
    """Per incident with a status history, what its status path shows (one pass over the
    paths, shared by the process signs): ``bad``, the moves outside the lifecycle; ``closed``
    and ``resolved``, whether it reached them; ``back``, 1 when it moved backwards; ``path``,
    its statuses in turn joined by " > "."""
    return r.shared("status_moves", lambda: _status_moves(r))


def _status_moves(r: Records) -> ibis.Table:
    steps = status_path(r)
    # the first step moves from "" (the start), later steps from the previous status
    origin = (steps.step == 0).ifelse("", steps.prev.fill_null(""))
    ok = _allowed(origin, steps.status).fill_null(False)
    case = ibis.cases(*((steps.status == s, v) for s, v in _RANK.items()), else_=None)
    prev_case = ibis.cases(*((steps.prev == s, v) for s, v in _RANK.items()), else_=None)
    backward = (case < prev_case) & ~steps.prev.isin(("resolved", "closed"))
    # sort (step, status) pairs rather than collect(order_by=…), which PySpark lacks
    ordered = ibis.struct({"step": steps.step, "status": steps.status}).collect().sort()
    return steps.group_by("ticket_id").aggregate(
        path=ordered.map(lambda x: x.status).join(" > "),
        bad=ok.ifelse(0, 1).sum(),
        closed=(steps.status == "closed").any(),
        resolved=(steps.status == "resolved").any(),
        # null when no move has ranks on both sides: such a ticket is not measured
        back=backward.ifelse(1, 0).max(where=steps.prev.notnull()),
    )


def variant_counts(r: Records) -> ibis.Table:
    """Per status path: ``path`` and ``tickets``, the incidents that followed it. Shared by the
    variants sign and the process map."""
    return r.shared("variant_counts", lambda: status_moves(r).group_by("path").aggregate(tickets=_.count()))


def _conformance(r: Records) -> ibis.Table:
    m = status_moves(r)
    return m.select("ticket_id", value=share(m.bad == 0))


def _skipped_resolution(r: Records) -> ibis.Table:
    per = status_moves(r).filter(_.closed)
    # not ~resolved: ibis compiles (NOT x) IS NULL without parentheses
    return per.select("ticket_id", value=share(per.resolved == ibis.literal(False)))


def _backward(r: Records) -> ibis.Table:
    m = status_moves(r).filter(_.back.notnull())
    return m.select("ticket_id", value=m.back.cast("float64"))


def _variants(r: Records) -> ibis.Table:
    counted = variant_counts(r)
    return counted.aggregate(variants=_.count(), tickets=_.tickets.sum())


def _variants_finish(table: pa.Table) -> tuple[float | None, dict[str, Any]]:
    row = table.to_pylist()[0]
    if not row["tickets"]:
        return None, {"_reason": "no status history"}
    return 100.0 * row["variants"] / row["tickets"], {"variants": row["variants"], "_n": row["tickets"]}


_STATUS_NEEDS = ("event.to_status",)

PROCESS_SIGNS: tuple[Sign, ...] = (
    Sign(
        id="process.lifecycle_conformance",
        name="Lifecycle conformance",
        area="compliance",
        practice="incident management",
        unit="ratio",
        direction="higher",
        definition=(
            "Share of incidents whose status path (consecutive repeats collapsed) fits the reference lifecycle in "
            "signs/lifecycle.yaml: an allowed first status and only allowed moves. BPIC 2013 question 4."
        ),
        benchmark=Benchmark(good=0.90, poor=0.70, source="no published benchmark; ITSM Doctor working band"),
        needs=_STATUS_NEEDS,
        per_ticket=_conformance,
    ),
    Sign(
        id="process.skipped_resolution_rate",
        name="Closed without being resolved",
        area="compliance",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition="Of the incidents that reached closed, the share that never passed through resolved.",
        benchmark=Benchmark(good=0.05, poor=0.20, source="no published benchmark; ITSM Doctor working band"),
        needs=_STATUS_NEEDS,
        per_ticket=_skipped_resolution,
    ),
    Sign(
        id="process.variants_per_100",
        name="Process variants per 100 incidents",
        area="compliance",
        practice="incident management",
        unit="count",
        direction="lower",
        definition="Distinct status paths (consecutive repeats collapsed) per 100 incidents with a status history.",
        benchmark=Benchmark(good=5.0, poor=15.0, source="no published benchmark; ITSM Doctor working band"),
        needs=_STATUS_NEEDS,
        summary=_variants,
        finish=_variants_finish,
    ),
    Sign(
        id="process.backward_transition_rate",
        name="Backward status moves",
        area="compliance",
        practice="incident management",
        unit="ratio",
        direction="lower",
        definition=(
            "Share of incidents with a status move backwards in the lifecycle order new < assigned = in progress = "
            "pending < resolved < closed that is not a reopen (a move out of resolved or closed). A return to "
            "assigned is a handover between queues and ranks with in progress."
        ),
        benchmark=Benchmark(good=0.05, poor=0.15, source="no published benchmark; ITSM Doctor working band"),
        needs=_STATUS_NEEDS,
        per_ticket=_backward,
    ),
)
