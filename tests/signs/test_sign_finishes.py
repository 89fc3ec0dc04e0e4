"""Sign ``finish`` functions (and one summary) on hand-made tables, at the boundaries the sign
cases do not reach: the backlog trend's steady weeks, its edge margin and its arrival swing, the
priority classes, the time shares, CI recurrence with no incident, the single-agent list.

Each table is what the sign's summary returns (one small Arrow table), written out by hand.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from itsm_doctor.engine import records_from_arrow
from itsm_doctor.records.schema import SCHEMAS
from itsm_doctor.signs.common import time_share_finish
from itsm_doctor.signs.contrast import _backlog_finish, _priority_classes, _priority_finish
from itsm_doctor.signs.incident_people import _single_agent_finish
from itsm_doctor.signs.narrow import _ci_recurrence_finish


def _weeks(rows: list[tuple[int, int | None, int]]) -> pa.Table:
    """A ``_backlog_weeks`` summary: (open_week, end_week or None, n)."""
    return pa.table(
        {"open_week": [r[0] for r in rows], "end_week": [r[1] for r in rows], "n": [r[2] for r in rows]},
        schema=pa.schema([("open_week", pa.int64()), ("end_week", pa.int64()), ("n", pa.int64())]),
    )


# Week 100: one incident stuck open. Weeks 101–108: four a week, three end the same week, one the
# next. Week 109: eight (two the same week, one the next, five open); week 110: eight (one, one, six).
# Arrivals over 100–110 sorted: 1, 4 × 8, 8, 8 → the 90th percentile is index int(0.9 × 10) = 9 → 8,
# floor 0.25 × 8 = 2: week 100 (1) is a thin edge (index 8 would give 4, floor 1, and keep it).
# Durations: 27 weeks of 0, 10 of 1 → index int(0.75 × 36) = 27 → 1 (index 26 → 0, index 0 → 0): margin 2.
BACKLOG = [
    (100, None, 1),
    *[(w, w, 3) for w in range(101, 109)],
    *[(w, w + 1, 1) for w in range(101, 109)],
    (109, 109, 2),
    (109, 110, 1),
    (109, None, 5),
    (110, 110, 1),
    (110, 111, 1),
    (110, None, 6),
]


def test_backlog_trend_cuts_the_thin_edge_and_the_fill_up() -> None:
    value, extra = _backlog_finish(_weeks(BACKLOG))
    # window 101 + 2 = 103 … 110 (eight weeks; arrivals 16 → 24 between halves, within 3-fold).
    # Open at the end of each week: the stuck one, and the one of that week ending next week (2);
    # 109: + its five open and its one ending at 110 (7); 110: 1 + 5 + 6 + its one ending at 111 (13)
    open_at = {103: 2, 104: 2, 105: 2, 106: 2, 107: 2, 108: 2, 109: 7, 110: 13}
    # halves 2, 2, 2, 2 and 2, 2, 7, 13: 6 ÷ 2 − 1
    assert value == 2.0
    assert extra == {
        "week": {str(w): {"value": float(v), "n": v} for w, v in open_at.items()},
        "window": {"first_week": 103, "last_week": 110, "closed_only": False, "edge_weeks": 2},
        "_n": 49,
    }


def test_backlog_trend_reads_an_empty_late_week_as_no_arrival() -> None:
    # arrivals 3 a week over 0–4, none in 5, 12 in 6, 20 in 7 (one stays open): sorted 0, 3 × 5, 12,
    # 20 → index 6 → 12, floor 3: every week but 5 is steady. All durations 0: margin 1, window 1–7.
    # Halves of three weeks: 1–3 (9) and 5–7 (0 + 12 + 20 = 32, the empty week counted 0): > 3-fold
    rows = [*[(w, w, 3) for w in range(5)], (6, 6, 12), (7, 7, 19), (7, None, 1)]
    assert _backlog_finish(_weeks(rows)) == (
        None,
        {
            "_reason": "arrivals change more than 3-fold between the window's halves (9 → 32): the extract "
            "selects incidents by period, its backlog is not the organisation's"
        },
    )


def test_priority_ratio_compares_the_most_and_the_least_urgent_class() -> None:
    # classes 1, 2 and 4 with 20 incidents (3 with 19 is left out): urgent 1, least urgent 4 (not 2);
    # se = √(0.8 / 20 + 0.45 / 20) = 0.25; ratio = exp(ln 2 − ln 8 − 0.25) = e^−0.25 / 4
    table = pa.table(
        {
            "priority": [4, 1, 3, 2],
            "n": [20, 20, 19, 20],
            "log_mean": [math.log(8), math.log(2), 0.0, math.log(3)],
            "log_var": [0.45, 0.8, 0.0, 0.1],
        }
    )
    value, extra = _priority_finish(table)
    assert value == pytest.approx(math.exp(-0.25) / 4, abs=1e-12)
    assert extra == {
        "priority": {
            "1": {"value": pytest.approx(2.0), "n": 20},
            "2": {"value": pytest.approx(3.0), "n": 20},
            "4": {"value": pytest.approx(8.0), "n": 20},
        },
        "standard_error": pytest.approx(0.25),
        "_n": 60,
    }


def test_priority_classes_count_resolved_prioritised_incidents_from_zero_hours() -> None:
    schema = SCHEMAS["ticket"]
    t = datetime(2026, 1, 5, 8, tzinfo=UTC)
    rows = [
        # priority 1: resolved at once (0 h: kept, `h >= 0`), after half an hour (kept, not `h >= 1`), after 2 h
        ("A", 1, t, t),
        ("B", 1, t, t + timedelta(minutes=30)),
        ("C", 1, t, t + timedelta(hours=2)),
        ("D", 2, t, t + timedelta(hours=1)),
        ("E", None, t, t + timedelta(hours=1)),  # no priority: no class (`&`, not `|`)
        ("F", 3, t, None),  # not resolved
        ("G", 2, t, t - timedelta(hours=1)),  # resolved before it opened: left out
    ]
    cols = {"ticket_id": [], "ticket_type": [], "priority": [], "opened_at": [], "resolved_at": []}
    for tid, priority, opened, resolved in rows:
        for name, v in zip(cols, (tid, "incident", priority, opened, resolved), strict=True):
            cols[name].append(v)
    table = pa.table({f.name: cols.get(f.name, [None] * len(rows)) for f in schema}, schema=schema)
    r = records_from_arrow({"ticket": table})
    got = sorted(r.execute(_priority_classes(r)).to_pylist(), key=lambda x: x["priority"])
    assert [(x["priority"], x["n"]) for x in got] == [(1, 3), (2, 1)]
    # the 0 h is floored at a minute: (ln(1/60) + ln(0.5) + ln(2)) / 3
    assert got[0]["log_mean"] == pytest.approx(math.log(1 / 60) / 3, abs=1e-12)
    assert got[1]["log_mean"] == pytest.approx(0.0, abs=1e-12)


def test_time_share_with_no_pending_time_is_zero() -> None:
    # open time recorded, none of it pending: 0 (the part's 0.0 is not read as missing)
    assert time_share_finish(pa.table({"part": [0.0], "whole": [3600.0], "n": [2]})) == (0.0, {"_n": 2})


def test_ci_recurrence_with_no_incident_names_zero_of_zero() -> None:
    table = pa.table({"with_ci": [0], "recurring": [0], "incidents": [0]})
    assert _ci_recurrence_finish(table) == (None, {"_reason": "only 0 of 0 incidents name a configuration item"})


def test_single_agent_services_list_the_first_twenty() -> None:
    # 21 services of 20 resolved incidents, each resolved by one agent: all single-agent, 20 listed
    names = [f"S{i:02d}" for i in range(21)]
    table = pa.table({"service": names[::-1], "n": [20] * 21, "top": [20] * 21})
    assert _single_agent_finish(table) == (1.0, {"services": 21, "single_agent_services": names[:20], "_n": 21})
