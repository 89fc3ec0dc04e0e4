"""The extract window: the part of an export's period where arrivals and closures are both seen.

An export is cut from the organisation's records by some rule, and the rule shows at its
edges. Tickets opened before the window appear only when they were still open in it (the
early months hold a few very old incidents: left-censoring); a closed-only extract holds, in
its last weeks, only the tickets that closed quickly, and the backlog drains after the last
arrival; the last weeks of any export hold tickets whose resolution is still to come
(right-censoring). Trend signs (``incident.backlog_growth``, ``incident.mttr_trend``) are
measured inside the window found here, and say what was cut.

``incident_spans`` is the summary both read (one row per incident, executed by the engine);
``observed_window`` is pure Python over it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis import _

from itsm_doctor.engine import Records
from itsm_doctor.signs.common import hours_between, of_type

__all__ = ["DENSE_SHARE", "Window", "as_utc", "incident_spans", "observed_window"]

# A week belongs to the window when its arrivals (and its resolutions) reach this share of a
# busy week: the sparse weeks outside are the censored tails of the extract. A busy week is
# the volume-weighted median week (the weeks at least as busy hold half of all tickets), so a
# long sparse tail cannot make every week look busy.
DENSE_SHARE = 0.2
_WEEK = timedelta(days=7)


def incident_spans(r: Records) -> ibis.Table:
    """Per incident not cancelled: ``opened`` and ``resolved`` (timestamps), the weeks they fall
    in (``opened_week``, ``resolved_week``, Mondays), ``hours`` to resolve, and ``open``
    (1 when neither resolved nor closed)."""
    t = of_type(r, "incident").filter(_.opened_at.notnull() & _.cancelled_at.isnull())
    return t.select(
        opened=t.opened_at,
        resolved=t.resolved_at,
        opened_week=t.opened_at.truncate("W").date(),
        resolved_week=t.resolved_at.truncate("W").date(),
        hours=hours_between(t.opened_at, t.resolved_at),
        open=(t.resolved_at.isnull() & t.closed_at.isnull()).ifelse(1, 0),
    )


@dataclass(frozen=True, kw_only=True)
class Window:
    """Where arrivals and closures are both observed, and what lies outside it."""

    weeks: list[date]  # every week from the first to the last of the records
    arrivals: dict[date, int]
    completions: dict[date, int]
    start: date  # first week inside
    end: date  # last week inside
    cutoff: datetime | None  # tickets opened after it could not all be resolved in the records
    closed_only: bool
    opened_before: int  # incidents opened before ``start``
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "resolution_cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "weeks_cut_before": sum(1 for w in self.weeks if w < self.start),
            "weeks_cut_after": sum(1 for w in self.weeks if w > self.end),
            "incidents_opened_before": self.opened_before,
            "closed_only_extract": self.closed_only,
            "cut_because": list(self.reasons),
        }

    def note(self) -> str | None:
        """What was cut, in words (None when nothing was)."""
        cut = self.as_json()
        if not self.reasons:
            return None
        return (
            f"measured over the extract window {cut['from']} – {cut['to']} "
            f"({cut['weeks_cut_before']} week(s) cut before, {cut['weeks_cut_after']} after: "
            + "; ".join(self.reasons)
            + ")"
        )


def as_utc(value: datetime) -> datetime:
    """A time as UTC-aware (Spark hands UTC times back without their zone, DuckDB with it)."""
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _counts(column: pa.ChunkedArray) -> Counter[date]:
    """How many rows fall in each week (a column of Mondays, nulls left out)."""
    found = pc.value_counts(column.drop_null()).to_pylist()
    return Counter({_day(row["values"]): int(row["counts"]) for row in found})


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[no-any-return]


def _busy(counts: Counter[date]) -> float:
    """The volume-weighted median of weekly counts: the weeks at least this busy hold half."""
    total, seen = sum(counts.values()), 0
    for n in sorted(counts.values(), reverse=True):
        seen += n
        if 2 * seen >= total:
            return float(n)
    return 0.0


def _dense(counts: Counter[date], weeks: list[date]) -> list[date]:
    level = DENSE_SHARE * _busy(counts)
    return [w for w in weeks if counts.get(w, 0) >= level and counts.get(w, 0) > 0]


def observed_window(table: pa.Table) -> Window | None:
    """The window of an ``incident_spans`` table (None when nothing was resolved)."""
    arrivals, completions = _counts(table["opened_week"]), _counts(table["resolved_week"])
    if not arrivals or not completions:
        return None
    first, last = min(arrivals | completions), max(arrivals | completions)
    weeks = [first + i * _WEEK for i in range((last - first) // _WEEK + 1)]
    dense, done = _dense(arrivals, weeks), _dense(completions, weeks)
    reasons: list[str] = []
    start, end = dense[0], dense[-1]
    if start > min(arrivals):
        reasons.append(
            f"arrivals before {start.isoformat()} are sparse (under {DENSE_SHARE:.0%} of a busy week): incidents "
            "opened before the extract's window, present only because they were still open in it"
        )
    if done[0] > start:
        start = done[0]
        reasons.append(f"resolutions before {start.isoformat()} are sparse: closures are not observed yet")
    if end < max(arrivals):
        reasons.append(f"arrivals after {end.isoformat()} are sparse")
    if done[-1] < end:
        end = done[-1]
        reasons.append(f"resolutions after {end.isoformat()} are sparse: closures are no longer observed")
    closed_only = not pc.any(pc.equal(table["open"], 1)).as_py()
    hours = np.asarray(table["hours"].to_numpy(zero_copy_only=False), dtype=float)
    hours = hours[~np.isnan(hours)]
    last_resolved = pc.max(table["resolved"]).as_py()
    cutoff = None
    if len(hours) and last_resolved is not None:
        p90 = float(np.percentile(hours, 90))
        cutoff = as_utc(last_resolved) - timedelta(hours=p90)
        if closed_only:
            # every ticket of the extract ended: the late ones are there only if they ended fast
            limit = cutoff.date() - timedelta(days=cutoff.weekday())
            if limit < end:
                end = limit
                reasons.append(
                    "every incident of the extract is closed (a closed-only extract): tickets opened after "
                    f"{cutoff.date().isoformat()} (the last resolution less the 90th percentile of the time to "
                    "resolve) are there only if they ended fast"
                )
    if end == max(arrivals) and end < last:
        reasons.append(f"no incident arrives after {end.isoformat()}: the later weeks only drain the backlog")
    opened_before = sum(n for w, n in arrivals.items() if w < start)
    return Window(
        weeks=weeks,
        arrivals=dict(arrivals),
        completions=dict(completions),
        start=start,
        end=max(end, start),
        cutoff=cutoff,
        closed_only=closed_only,
        opened_before=opened_before,
        reasons=tuple(reasons),
    )
