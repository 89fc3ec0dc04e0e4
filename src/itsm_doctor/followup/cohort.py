"""Equal observation: which tickets have had the chance to show a sign.

A ticket opened three days before the extract ends has had no time to bounce between
groups, to be reopened or to take long: judged beside older tickets it looks healthy, and a
before/after split at a recent date turns that right-censoring into a miracle cure. So a
ticket counts for a sign only once the sign's *horizon* has passed within the extract:

- the **settle horizon** — the 90th percentile of the time tickets opened before the
  adoption took to settle (resolve, close or be cancelled), in whole days; a ticket counts
  only when it settled within it;
- the **after window** of signs that look past the settlement (a reopen can come days after
  the resolution);
- the **look-back** of signs that look before the opening (a recurring incident needs the
  30 days before it in the records).

Before and after cohorts are cut by the same rule, so both had the same chance to show the
sign; the tickets left out are counted and reported (too young, or not settled within the
horizon).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

__all__ = [
    "AFTER_WINDOW",
    "LOOK_BACK",
    "SETTLE_QUANTILE",
    "Cohorts",
    "Horizon",
    "TicketValue",
    "aware",
    "cut_at",
    "equal_observation",
    "horizon",
]

SETTLE_QUANTILE = 0.9
# signs that look past the settlement: how long after it the records must reach
AFTER_WINDOW: dict[str, timedelta] = {
    "incident.reopen_rate": timedelta(days=14),
    "incident.quick_reopen_rate": timedelta(hours=72),
}
# signs that look before the opening: how much history the records must hold before it
LOOK_BACK: dict[str, timedelta] = {"incident.recurring_rate": timedelta(days=30)}


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketValue:
    """One ticket's value of a sign (1/0 for a share, hours for a duration, a count), when it
    was opened, when it settled (None while open) and the group that owns it."""

    opened_at: datetime
    value: float
    settled_at: datetime | None = None
    group: str | None = None


@dataclass(frozen=True, kw_only=True)
class Horizon:
    """How long a ticket must have been observed to count for a sign."""

    settle: timedelta | None  # None: the records do not say when tickets settled
    after: timedelta = timedelta(0)
    look_back: timedelta = timedelta(0)

    @property
    def total(self) -> timedelta:
        return (self.settle or timedelta(0)) + self.after

    @property
    def days(self) -> float:
        return self.total.total_seconds() / 86400


@dataclass(frozen=True, kw_only=True)
class Cohorts:
    """The tickets judged on each side of the adoption, and those left out and why."""

    before: tuple[TicketValue, ...]
    after: tuple[TicketValue, ...]
    horizon: Horizon
    extract_start: datetime
    extract_end: datetime
    too_young: int  # opened less than the horizon before the extract's end
    unsettled: int  # old enough, but not settled within the settle horizon
    too_early_in_extract: int  # opened less than the look-back after the extract's start

    def as_json(self) -> dict[str, object]:
        return {
            "horizon_days": round(self.horizon.days, 2),
            "settle_days": None if self.horizon.settle is None else self.horizon.settle.days,
            "after_window_days": round(self.horizon.after.total_seconds() / 86400, 2),
            "look_back_days": self.horizon.look_back.days,
            "judged_before": len(self.before),
            "judged_after": len(self.after),
            "too_young": self.too_young,
            "unsettled": self.unsettled,
            "too_early_in_extract": self.too_early_in_extract,
            "extract_end": self.extract_end.isoformat(),
        }


def aware(t: datetime) -> datetime:
    """``t`` with UTC when it carries no zone (records keep UTC)."""
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def cut_at(since: date) -> datetime:
    """The instant a prescription took effect: midnight UTC of its date."""
    return datetime.combine(since, time.min, tzinfo=UTC)


def horizon(*, sign: str, tickets: Sequence[TicketValue], cut: datetime) -> Horizon:
    """The sign's horizon on these tickets: the settle quantile of the tickets opened before
    ``cut`` (rounded up to whole days, at least one), plus the sign's after window."""
    spans = [
        (aware(t.settled_at) - aware(t.opened_at)).total_seconds()
        for t in tickets
        if t.settled_at is not None and aware(t.opened_at) < cut
    ]
    settle = None
    if spans:
        q = float(np.quantile(np.asarray(spans, dtype=float), SETTLE_QUANTILE))
        settle = timedelta(days=max(1, math.ceil(max(q, 0.0) / 86400)))
    return Horizon(
        settle=settle, after=AFTER_WINDOW.get(sign, timedelta(0)), look_back=LOOK_BACK.get(sign, timedelta(0))
    )


def equal_observation(
    *,
    sign: str,
    tickets: Sequence[TicketValue],
    cut: datetime,
    extract_end: datetime | None = None,
    extract_start: datetime | None = None,
) -> Cohorts:
    """Split ``tickets`` at ``cut`` into the before and after cohorts that had the same chance
    to show ``sign``. The extract's ends default to the first opening and the last opening or
    settlement among the tickets."""
    if not tickets:
        raise ValueError("equal observation needs tickets")
    opened = [aware(t.opened_at) for t in tickets]
    seen = opened + [aware(t.settled_at) for t in tickets if t.settled_at is not None]
    end = aware(extract_end) if extract_end is not None else max(seen)
    start = aware(extract_start) if extract_start is not None else min(opened)
    h = horizon(sign=sign, tickets=tickets, cut=cut)
    before: list[TicketValue] = []
    after: list[TicketValue] = []
    too_young = unsettled = too_early = 0
    for t, at in zip(tickets, opened, strict=True):
        if at - h.look_back < start:
            too_early += 1
        elif at + h.total > end:
            too_young += 1
        elif h.settle is not None and (t.settled_at is None or aware(t.settled_at) - at > h.settle):
            unsettled += 1
        else:
            (before if at < cut else after).append(t)
    return Cohorts(
        before=tuple(before),
        after=tuple(after),
        horizon=h,
        extract_start=start,
        extract_end=end,
        too_young=too_young,
        unsettled=unsettled,
        too_early_in_extract=too_early,
    )
