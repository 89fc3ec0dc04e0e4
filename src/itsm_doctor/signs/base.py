"""What a sign is: metadata plus one small Ibis function, and the shared ``compute``.

A sign's function returns, per ticket (or per interval), the value to aggregate — a table
with the columns ``ticket_id`` and ``value`` (1/0 for a share, hours for a duration). The
shared ``compute`` adds the breakdowns (group, tier, priority, category, service, month of
opening), aggregates (mean, median or p90), and rates the headline against the benchmark
band. A few signs are not an aggregate of per-ticket values (a slope, a correlation, a
concentration); they give a small summary table instead and a pure ``finish`` function
turns it into the value. Signs build expressions; only the engine executes them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis
import pyarrow as pa
from ibis import _

from itsm_doctor.engine import Records

__all__ = [
    "AREAS",
    "BREAKDOWNS",
    "Benchmark",
    "Detail",
    "Finding",
    "Sign",
    "compute",
    "compute_all",
    "rate",
    "ticket_dims",
]

AREAS = ("compliance", "quality", "performance", "value")
BREAKDOWNS = ("group", "tier", "priority", "category", "service", "month")
Aggregate = Literal["mean", "median", "p90", "custom"]
PerTicket = Callable[[Records], ibis.Table]
Summary = Callable[[Records], ibis.Table]
Finish = Callable[[pa.Table], tuple[float | None, dict[str, Any]]]


@dataclass(frozen=True, kw_only=True)
class Benchmark:
    """The good / poor band in the sign's unit, and where it comes from."""

    good: float
    poor: float
    source: str

    def as_json(self) -> dict[str, Any]:
        return {"good": self.good, "poor": self.poor, "source": self.source}


@dataclass(frozen=True, kw_only=True)
class Detail:
    """How a sign's value was reached, where the records offer more than one reading (e.g. the
    history beside the source's own counter, or the part of the extract window measured):
    ``summary`` gives one small table, ``finish`` turns it into the breakdown ``detail`` and a
    note for the reader (None when there is nothing to say)."""

    summary: Summary
    finish: Callable[[pa.Table], tuple[dict[str, Any], str | None]]


@dataclass(frozen=True, kw_only=True)
class Sign:
    id: str
    name: str
    area: str
    practice: str
    unit: str  # ratio | h | count | rho
    direction: Literal["higher", "lower"]
    definition: str
    benchmark: Benchmark
    needs: tuple[str, ...]  # "table" (must have rows) or "table.column" (must have a value)
    per_ticket: PerTicket | None = None
    aggregate: Aggregate = "mean"
    summary: Summary | None = None
    finish: Finish | None = None
    breakdowns: tuple[str, ...] = BREAKDOWNS
    aliases: tuple[str, ...] = ()
    detail: Detail | None = None
    # when the sign is n/a, what it would have needed, in words (after the missing inputs)
    na_when: str | None = None

    def __post_init__(self) -> None:
        if self.area not in AREAS:
            raise ValueError(f"sign {self.id}: unknown area {self.area!r}")
        if (self.per_ticket is None) == (self.summary is None):
            raise ValueError(f"sign {self.id}: give either per_ticket or summary + finish")
        if self.summary is not None and self.finish is None:
            raise ValueError(f"sign {self.id}: a summary sign needs a finish function")


@dataclass(kw_only=True)
class Finding:
    """A sign measured on a patient's records: the ``signs`` entries of the examination JSON."""

    sign: Sign
    value: float | None
    status: str
    n: int = 0
    reason: str | None = None
    breakdowns: dict[str, Any] = field(default_factory=dict)
    note: str | None = None  # how the value was reached, when the reader should know

    def as_json(self) -> dict[str, Any]:
        s = self.sign
        return {
            "id": s.id,
            "name": s.name,
            "area": s.area,
            "practice": s.practice,
            "value": self.value,
            "unit": s.unit,
            "direction": s.direction,
            "benchmark": s.benchmark.as_json(),
            "status": self.status,
            "n": self.n,
            "reason": self.reason,
            "note": self.note,
            "breakdowns": self.breakdowns,
        }


def rate(sign: Sign, value: float | None) -> str:
    """good | fair | poor against the band (n/a without a value)."""
    if value is None or math.isnan(value):
        return "n/a"
    good, poor = sign.benchmark.good, sign.benchmark.poor
    if sign.direction == "lower":
        return "good" if value <= good else "poor" if value >= poor else "fair"
    return "good" if value >= good else "poor" if value <= poor else "fair"


def ticket_dims(r: Records) -> ibis.Table:
    """Per ticket, the dimensions breakdowns use."""
    t = r["ticket"]
    g = r["group"].select(group_key=_.group_id, tier=_.tier)
    dims = t.select(
        "ticket_id",
        group=t.assigned_group_id,
        priority=t.priority.cast("string"),
        category=t.category,
        service=t.service_id,
        month=t.opened_at.strftime("%Y-%m"),
    )
    return dims.left_join(g, dims.group == g.group_key).select(
        "ticket_id", "group", "priority", "category", "service", "month", tier=_.tier.cast("string")
    )


def _satisfied(r: Records, need: str) -> bool:
    """``table`` has rows; ``table.column`` has a value; ``table.column=value`` has that value;
    ``table.column!=value`` has a value other than that one."""
    table, _sep, rest = need.partition(".")
    if not r.has(table):
        return False
    if not rest:
        return True
    column, _eq, wanted = rest.partition("=")
    differs = column.endswith("!")
    col = r[table][column.rstrip("!")]
    cond = col.notnull() if not wanted else (col != wanted) if differs else (col == wanted)
    return bool(r.execute(cond.fill_null(False).any()))


def _missing(r: Records, needs: Sequence[str], cache: dict[str, bool]) -> str | None:
    """Why the records cannot give this sign (``a|b`` means either will do), or None."""
    for need in needs:
        options = need.split("|")
        ok = False
        for option in options:
            if option not in cache:
                cache[option] = _satisfied(r, option)
            ok = ok or cache[option]
        if not ok:
            return "these records have no " + " nor ".join(
                o.replace("!=", " other than ") if "!=" in o else o.replace("=", " = ") for o in options
            )
    return None


def _agg(values: ibis.Column, how: Aggregate) -> ibis.Scalar:
    if how == "median":
        return values.quantile(0.5)
    if how == "p90":
        return values.quantile(0.9)
    return values.mean()


def _clean(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def compute(sign: Sign, r: Records, *, cache: dict[str, bool] | None = None) -> Finding:
    """Measure one sign on the records."""
    cache = {} if cache is None else cache
    reason = _missing(r, sign.needs, cache)
    if reason:
        return _not_measurable(sign, reason)
    return _with_detail(sign, r, _measure(sign, r))


def _not_measurable(sign: Sign, reason: str) -> Finding:
    why = f"{reason}: {sign.na_when}" if sign.na_when else reason
    return Finding(sign=sign, value=None, status="n/a", reason=why)


def _with_detail(sign: Sign, r: Records, finding: Finding) -> Finding:
    if sign.detail is not None and finding.value is not None:
        detail, note = sign.detail.finish(r.execute(sign.detail.summary(r)))
        finding.breakdowns["detail"] = detail
        finding.note = "; ".join(n for n in (finding.note, note) if n) or None
    return finding


def compute_all(signs: Sequence[Sign], r: Records, *, progress: Callable[[str], None] | None = None) -> list[Finding]:
    """Measure ``signs`` on the records, in their order: the same findings as ``compute`` sign
    by sign. With ``r.batch_signs`` (Spark: each query costs a job's start-up, whatever its
    size) every input the signs need is checked in one query, and the per-ticket signs are
    measured together: one query per kind of aggregate (mean, median, p90) gives every such
    sign's headline and breakdowns. Without it (DuckDB: each query is cheap, and one sign's
    values at a time keep memory small) each sign runs on its own."""
    cache: dict[str, bool] = {}
    if not r.batch_signs:
        findings = []
        for sign in signs:
            if progress:
                progress(sign.id)
            findings.append(compute(sign, r, cache=cache))
        return findings
    cache.update(_needs_met(r, {o for s in signs for need in s.needs for o in need.split("|")}))
    missing = {s.id: _missing(r, s.needs, cache) for s in signs}
    batched = [s for s in signs if s.per_ticket is not None and missing[s.id] is None]
    measured = _measure_batch(batched, r)
    out: list[Finding] = []
    for sign in signs:
        if progress:
            progress(sign.id)
        reason = missing[sign.id]
        if reason is not None:
            out.append(_not_measurable(sign, reason))
        else:
            out.append(_with_detail(sign, r, measured[sign.id] if sign.id in measured else _measure(sign, r)))
    return out


def _needs_met(r: Records, options: set[str]) -> dict[str, bool]:
    """Whether the records satisfy each need option (see ``_satisfied``), in one query."""
    met: dict[str, bool] = {}
    conds: dict[str, dict[str, ibis.Scalar]] = {}
    for i, option in enumerate(sorted(options)):
        table, _sep, rest = option.partition(".")
        if not r.has(table) or not rest:
            met[option] = r.has(table)
            continue
        column, _eq, wanted = rest.partition("=")
        differs = column.endswith("!")
        col = r[table][column.rstrip("!")]
        cond = col.notnull() if not wanted else (col != wanted) if differs else (col == wanted)
        conds.setdefault(table, {})[f"c{i}"] = cond.fill_null(False).any()
    if not conds:
        return met
    rows = [r[table].aggregate(**aggs) for table, aggs in conds.items()]
    one = rows[0]
    for row in rows[1:]:
        one = one.cross_join(row)
    values = r.execute(one).to_pylist()[0]
    for i, option in enumerate(sorted(options)):
        if option not in met:
            met[option] = bool(values[f"c{i}"])
    return met


def _measure_batch(signs: Sequence[Sign], r: Records) -> dict[str, Finding]:
    """Per-ticket signs measured together: per kind of aggregate, the values of every sign
    (tagged with its position) are joined once to the tickets' dimensions and unpivoted, so
    that one grouped aggregate gives each sign's headline and every breakdown."""
    found: dict[str, Finding] = {}
    kinds: dict[str, list[Sign]] = {}
    for sign in signs:
        kinds.setdefault(sign.aggregate, []).append(sign)
    if not kinds:
        return found
    dims = r.shared("ticket_dims", lambda: ticket_dims(r))
    for kind, group in kinds.items():
        parts = [
            s.per_ticket(r)  # type: ignore[misc]
            .filter(_.value.notnull())
            .select(sign=ibis.literal(i, "int16"), ticket_id=_.ticket_id, value=_.value.cast("float64"))
            for i, s in enumerate(group)
        ]
        values = parts[0].union(*parts[1:], distinct=False) if len(parts) > 1 else parts[0]
        joined = values.left_join(dims, values.ticket_id == dims.ticket_id).select(
            values.sign, values.value, _headline=ibis.literal(""), **{d: dims[d].cast("string") for d in BREAKDOWNS}
        )
        long = joined.pivot_longer(["_headline", *BREAKDOWNS], names_to="dim", values_to="key")
        # a sign's breakdowns only (most take all six)
        wanted = [(long.dim == "_headline")] + [
            (long.dim == d) & long.sign.isin([i for i, s in enumerate(group) if d in s.breakdowns])
            for d in BREAKDOWNS
            if any(d in s.breakdowns for s in group)
        ]
        aggs = {"n": _.value.count(), "value": _agg(long.value, kind)}  # type: ignore[arg-type]
        if kind == "median":
            aggs["p90"] = long.value.quantile(0.9)
        rows = r.execute(
            long.filter(long.key.notnull() & ibis.or_(*wanted)).group_by(["sign", "dim", "key"]).aggregate(**aggs)
        ).to_pylist()
        by_sign: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            by_sign.setdefault(int(row["sign"]), []).append(row)
        for i, sign in enumerate(group):
            mine = by_sign.get(i, [])
            head = next((row for row in mine if row["dim"] == "_headline"), None)
            if head is None or not head["n"]:
                found[sign.id] = Finding(
                    sign=sign, value=None, status="n/a", reason="no ticket to measure in these records"
                )
                continue
            value = _clean(head["value"])
            breakdowns: dict[str, Any] = {dim: {} for dim in sign.breakdowns}
            for row in sorted((x for x in mine if x["dim"] != "_headline"), key=lambda x: (x["dim"], x["key"])):
                breakdowns[row["dim"]][str(row["key"])] = {"value": _clean(row["value"]), "n": int(row["n"])}
            if kind == "median":
                breakdowns["p90"] = _clean(head["p90"])
            found[sign.id] = Finding(
                sign=sign, value=value, status=rate(sign, value), n=int(head["n"]), breakdowns=breakdowns
            )
    return found


def _measure(sign: Sign, r: Records) -> Finding:
    if sign.summary is not None:
        assert sign.finish is not None
        raw_value, extra = sign.finish(r.execute(sign.summary(r)))
        n = int(extra.pop("_n", 0))
        note = extra.pop("_note", None)
        value = _clean(raw_value)
        reason = None if value is not None else str(extra.pop("_reason", "too few records to measure"))
        extra.pop("_reason", None)
        return Finding(
            sign=sign, value=value, status=rate(sign, value), n=n, reason=reason, breakdowns=extra, note=note
        )
    assert sign.per_ticket is not None
    per = sign.per_ticket(r).filter(_.value.notnull()).select("ticket_id", "value")
    # the per-ticket values are computed once and kept narrow, then aggregated for the
    # headline and, joined to the tickets' dimensions, for every breakdown in one query
    with r.held(per) as values:
        extra = {"p90": values.value.quantile(0.9)} if sign.aggregate == "median" else {}
        head = r.execute(values.aggregate(n=_.value.count(), value=_agg(values.value, sign.aggregate), **extra))
        n = int(head["n"][0].as_py() or 0)
        if n == 0:
            return Finding(sign=sign, value=None, status="n/a", reason="no ticket to measure in these records")
        value = _clean(head["value"][0].as_py())
        breakdowns = _breakdowns(r, values, sign)
    if sign.aggregate == "median":
        breakdowns["p90"] = _clean(head["p90"][0].as_py())
    return Finding(sign=sign, value=value, status=rate(sign, value), n=n, breakdowns=breakdowns)


def _breakdowns(r: Records, values: ibis.Table, sign: Sign) -> dict[str, Any]:
    """Per breakdown dimension, per key: the aggregate and its count (one query for all);
    ``values`` holds ``ticket_id`` and ``value``."""
    if not sign.breakdowns:
        return {}
    dims = r.shared("ticket_dims", lambda: ticket_dims(r))
    values = values.join(dims, values.ticket_id == dims.ticket_id).select(
        values.value, *(dims[d] for d in sign.breakdowns)
    )
    parts = [
        values.filter(values[dim].notnull())
        .group_by(key=values[dim].cast("string"))
        .aggregate(n=_.value.count(), value=_agg(values.value, sign.aggregate))
        .mutate(dim=ibis.literal(dim))
        for dim in sign.breakdowns
    ]
    rows = r.execute(parts[0].union(*parts[1:], distinct=False) if len(parts) > 1 else parts[0]).to_pylist()
    out: dict[str, Any] = {dim: {} for dim in sign.breakdowns}
    for row in sorted(rows, key=lambda x: (x["dim"], x["key"])):
        out[row["dim"]][str(row["key"])] = {"value": _clean(row["value"]), "n": int(row["n"])}
    return out
