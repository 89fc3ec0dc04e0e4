"""The extract window (signs/window.py) on hand-made inputs, value by value.

The sign cases reach the window only through backlog growth and the resolution-time trend;
here each function meets the boundary that defines it (``2 * seen >= total`` for a busy week,
``>= DENSE_SHARE`` of it for a dense one, the closed-only limit against the window's end…).
``observed_window`` reads an ``incident_spans`` summary, built here in pure Python (``_spans``)
so that the tests stay fast; ``incident_spans`` itself runs once on DuckDB.

Weeks are named W0 … W7 from Monday 2026-01-05 (W1 = 01-12, W2 = 01-19, W3 = 01-26,
W4 = 02-02, W5 = 02-09, W6 = 02-16, W7 = 02-23).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone

import pyarrow as pa

from itsm_doctor.engine import records_from_arrow
from itsm_doctor.records.schema import SCHEMAS
from itsm_doctor.signs.incident_time import _month_end, _trend_finish
from itsm_doctor.signs.window import (
    DENSE_SHARE,
    Window,
    _busy,
    _counts,
    _day,
    _dense,
    as_utc,
    incident_spans,
    observed_window,
)


def W(k: int) -> date:
    return date(2026, 1, 5) + timedelta(weeks=k)


def at(k: int, days: float = 0, hours: float = 0) -> datetime:
    """A time in week ``k``: its Monday 00:00 UTC plus ``days`` and ``hours``."""
    return datetime(2026, 1, 5, tzinfo=UTC) + timedelta(weeks=k, days=days, hours=hours)


_SPANS = pa.schema(
    [
        ("opened", pa.timestamp("us", tz="UTC")),
        ("resolved", pa.timestamp("us", tz="UTC")),
        ("opened_week", pa.date32()),
        ("resolved_week", pa.date32()),
        ("hours", pa.float64()),
        ("open", pa.int8()),
    ]
)


def _monday(t: datetime) -> date:
    return t.date() - timedelta(days=t.weekday())


def _spans(rows: list[tuple[datetime, float | None, int]], *, naive: bool = False) -> pa.Table:
    """An ``incident_spans`` summary of (opened, hours to resolve or None, how many such incidents);
    an unresolved one is open. ``naive``: times without their zone, as Spark hands them back."""
    cols: dict[str, list[object]] = {f.name: [] for f in _SPANS}
    for opened, hours, n in rows:
        resolved = None if hours is None else opened + timedelta(hours=hours)
        for _ in range(n):
            cols["opened"].append(opened)
            cols["resolved"].append(resolved)
            cols["opened_week"].append(_monday(opened))
            cols["resolved_week"].append(None if resolved is None else _monday(resolved))
            cols["hours"].append(hours)
            cols["open"].append(1 if resolved is None else 0)
    table = pa.table(cols, schema=_SPANS)
    if naive:
        table = table.cast(
            pa.schema([pa.field(f.name, pa.timestamp("us")) if f.name in ("opened", "resolved") else f for f in _SPANS])
        )
    return table


# --- _busy, _dense, _day, _counts, as_utc -------------------------------------------------------


def test_busy_is_the_volume_weighted_median_week() -> None:
    # 5, 3, 2 (10 tickets): the busiest week alone holds half (2 × 5 >= 10, equality counts);
    # with `>` it would take 3, ascending order 3, `seen -= n` or `2 / seen` never reach half (0.0)
    assert _busy(Counter({W(0): 2, W(1): 5, W(2): 3})) == 5.0
    # 4, 3, 3 (10): 2 × 4 = 8 < 10, 2 × 7 >= 10 → 3; a count starting at 1 (2 × 5 >= 10),
    # `3 * seen` (12 >= 10) would stop at 4; `seen = n` never reaches half (0.0)
    assert _busy(Counter({W(0): 3, W(1): 4, W(2): 3})) == 3.0
    # no week at all: 0.0 (not 1.0)
    assert _busy(Counter()) == 0.0


def test_dense_keeps_the_weeks_at_a_fifth_of_a_busy_week_or_more() -> None:
    assert DENSE_SHARE == 0.2
    # 10, 7, 2, 1 (20 tickets): busy = 10 (2 × 10 >= 20), level 0.2 × 10 = 2.0
    counts = Counter({W(0): 2, W(1): 1, W(2): 10, W(4): 7})
    weeks = [W(k) for k in range(6)]
    # W0 (2 = the level: kept, `>` would drop it), W1 (1 < 2: dropped, kept if the level were
    # 0.2 / 10 or the test `or`), W3 and W5 (no ticket: dropped), in the order of `weeks`
    assert _dense(counts, weeks) == [W(0), W(2), W(4)]
    # no count at all: level 0, and a week without tickets is still not dense (`> 0`, not `>= 0`,
    # nor a missing week read as 1 or as None)
    assert _dense(Counter(), weeks) == []


def test_day_reads_a_timestamp_as_its_date() -> None:
    # Spark hands weeks back as timestamps, DuckDB as dates: both give a date
    got = _day(datetime(2026, 1, 12, 0, 0))
    assert got == date(2026, 1, 12) and type(got) is date
    assert _day(date(2026, 1, 12)) == date(2026, 1, 12)


def test_counts_per_week_leave_nulls_out() -> None:
    stamps = pa.chunked_array([[datetime(2026, 1, 5), None, datetime(2026, 1, 5), datetime(2026, 1, 12)]])
    got = _counts(stamps)
    assert got == Counter({date(2026, 1, 5): 2, date(2026, 1, 12): 1})
    assert {type(k) for k in got} == {date}
    days = pa.chunked_array([[date(2026, 1, 12), None, None]], type=pa.date32())
    assert _counts(days) == Counter({date(2026, 1, 12): 1})


def test_as_utc_gives_a_naive_time_the_utc_zone_and_keeps_an_aware_one() -> None:
    naive = datetime(2026, 1, 5, 8, 30)
    got = as_utc(naive)
    assert got == datetime(2026, 1, 5, 8, 30, tzinfo=UTC) and got.tzinfo is UTC
    # an aware time keeps its own zone (not replaced by UTC: 08:30+02:00 is 06:30 UTC)
    paris = datetime(2026, 1, 5, 8, 30, tzinfo=timezone(timedelta(hours=2)))
    kept = as_utc(paris)
    assert kept.tzinfo == timezone(timedelta(hours=2))
    assert kept == datetime(2026, 1, 5, 6, 30, tzinfo=UTC)


# --- Window.as_json / note -----------------------------------------------------------------------


def test_window_without_a_cutoff_or_reasons() -> None:
    w = Window(
        weeks=[W(0), W(1), W(2)],
        arrivals={W(0): 1, W(1): 1, W(2): 1},
        completions={W(1): 1},
        start=W(1),
        end=W(1),
        cutoff=None,
        closed_only=False,
        opened_before=1,
        reasons=(),
    )
    # a null cutoff reads None (not None.isoformat())
    assert w.as_json() == {
        "from": "2026-01-12",
        "to": "2026-01-12",
        "resolution_cutoff": None,
        "weeks_cut_before": 1,
        "weeks_cut_after": 1,
        "incidents_opened_before": 1,
        "closed_only_extract": False,
        "cut_because": [],
    }
    assert w.note() is None


# --- observed_window ------------------------------------------------------------------------------


# Every edge cut: one old incident in W0, ten a week W2–W6, one in W7 (arrivals 1, 10 × 5, 1: busy
# 10, level 2). Resolutions: one of W2 the same day (24 h, W2), W0's after 21 days (504 h, W3), the
# other nine of W2, all of W3 and W4 a week later (168 h: W3, W4, W5), one of W5 a week later (W6);
# the rest (9 of W5, W6's 10, W7's one) still open. Resolutions 1, 10, 10, 10, 1: busy 10, level 2.
EVERY_EDGE = [
    (at(0), 504.0, 1),
    (at(2), 24.0, 1),
    (at(2), 168.0, 9),
    (at(3), 168.0, 10),
    (at(4), 168.0, 10),
    (at(5), 168.0, 1),
    (at(5), None, 9),
    (at(6), None, 10),
    (at(7), None, 1),
]


def test_observed_window_cuts_every_sparse_edge() -> None:
    w = observed_window(_spans(EVERY_EDGE))
    assert w is not None
    assert w.weeks == [W(k) for k in range(8)]
    assert w.arrivals == {W(0): 1, W(2): 10, W(3): 10, W(4): 10, W(5): 10, W(6): 10, W(7): 1}
    assert w.completions == {W(2): 1, W(3): 10, W(4): 10, W(5): 10, W(6): 1}
    # dense arrivals W2–W6, dense resolutions W3–W5: the window is W3 – W5 (done[-1], not done[1]
    # = W4, nor done[-2] = W4)
    assert (w.start, w.end) == (W(3), W(5))
    assert w.closed_only is False
    # hours: 24, 30 × 168, 504 → p90 (index 27.9 of 32) = 168; the last resolution is W6 00:00
    assert w.cutoff == datetime(2026, 2, 9, tzinfo=UTC)
    # opened before W3: W0's one and W2's ten
    assert w.opened_before == 11
    # the arrivals end (W5) is not the last arrival week (W7): no "drains the backlog" reason
    assert w.reasons == (
        "arrivals before 2026-01-19 are sparse (under 20% of a busy week): incidents opened before the "
        "extract's window, present only because they were still open in it",
        "resolutions before 2026-01-26 are sparse: closures are not observed yet",
        "arrivals after 2026-02-16 are sparse",
        "resolutions after 2026-02-09 are sparse: closures are no longer observed",
    )
    assert w.as_json() == {
        "from": "2026-01-26",
        "to": "2026-02-09",
        "resolution_cutoff": "2026-02-09T00:00:00+00:00",
        "weeks_cut_before": 3,
        "weeks_cut_after": 2,
        "incidents_opened_before": 11,
        "closed_only_extract": False,
        "cut_because": list(w.reasons),
    }
    # the reasons joined by "; " and closed by ")"
    assert w.note() == (
        "measured over the extract window 2026-01-26 – 2026-02-09 (3 week(s) cut before, 2 after: "
        + "; ".join(w.reasons)
        + ")"
    )
    note = w.note() or ""
    assert note.endswith("closures are no longer observed)")
    assert "closures are not observed yet; arrivals after 2026-02-16" in note


# A closed-only extract (every incident resolved): three a week in W0 and W1, W2 four, W3 one
# (busy 3, level 0.6: all dense; resolutions 3, 3, 3, 2 likewise). Nine take 24 h; one opened W2
# Monday takes 60 h; the last, opened W2 Friday 08:00, takes 100 h and ends W3 Tuesday 12:00.
CLOSED_ONLY = [
    (at(0), 24.0, 3),
    (at(1), 24.0, 3),
    (at(2), 24.0, 2),
    (at(2), 60.0, 1),
    (at(2, days=4, hours=8), 100.0, 1),
    (at(3), 24.0, 1),
]


def test_a_closed_only_extract_ends_where_slow_tickets_could_not_end() -> None:
    w = observed_window(_spans(CLOSED_ONLY))
    assert w is not None
    assert w.closed_only is True
    # hours 24 × 9, 60, 100: p90 (index 9.0 of 11) = 60 (p91 would be 64); the last resolution
    # 01-27 12:00 less 60 h = Sunday 01-25 00:00
    assert w.cutoff == datetime(2026, 1, 25, tzinfo=UTC)
    # its Monday (01-25 less 6 days = W2, not 01-25 plus 6 days) is before the end W3: the window ends at W2
    assert (w.start, w.end) == (W(0), W(2))
    # the end (W2) is not the last arrival (W3): no "drains the backlog" reason
    assert w.reasons == (
        "every incident of the extract is closed (a closed-only extract): tickets opened after 2026-01-25 "
        "(the last resolution less the 90th percentile of the time to resolve) are there only if they ended fast",
    )
    assert w.as_json()["weeks_cut_after"] == 1
    assert w.opened_before == 0


def test_a_closed_only_extract_whose_limit_is_the_end_is_not_cut() -> None:
    # the 60 h incident takes 36 h: p90 = 36, the cutoff is 01-27 12:00 less 36 h = W3 Monday
    # 00:00, whose Monday is the end itself (`limit < end`, not `<=`): nothing cut, no reason
    rows = [r if r[1] != 60.0 else (at(2), 36.0, 1) for r in CLOSED_ONLY]
    w = observed_window(_spans(rows))
    assert w is not None
    assert w.cutoff == datetime(2026, 1, 26, tzinfo=UTC)
    assert (w.start, w.end) == (W(0), W(3))
    assert w.reasons == ()
    assert w.note() is None


def test_an_extract_with_one_open_incident_is_not_closed_only() -> None:
    # the same records and one incident still open in W3: the cutoff stays, nothing is cut
    w = observed_window(_spans([*CLOSED_ONLY, (at(3), None, 1)]))
    assert w is not None
    assert w.closed_only is False
    assert (w.start, w.end) == (W(0), W(3))
    assert w.reasons == ()


# Arrivals stop after W2 (ten a week W0–W2), resolutions go on to W3: of each week's ten, four
# end the same week (24 h), four the next week (192 h), two stay open. Resolutions 4, 8, 8, 4
# (busy 8, level 1.6: all dense).
DRAIN = (
    [(at(k), 24.0, 4) for k in range(3)] + [(at(k), 192.0, 4) for k in range(3)] + [(at(k), None, 2) for k in range(3)]
)


def test_the_weeks_after_the_last_arrival_only_drain_the_backlog() -> None:
    w = observed_window(_spans(DRAIN))
    assert w is not None
    assert w.completions == {W(0): 4, W(1): 8, W(2): 8, W(3): 4}
    assert (w.start, w.end) == (W(0), W(2))
    # the end is the last arrival week and before the last week (W3): the reason is given
    assert w.reasons == ("no incident arrives after 2026-01-19: the later weeks only drain the backlog",)
    # hours 12 × 24, 12 × 192: p90 = 192; the last resolution 01-27 00:00 less 8 days
    assert w.cutoff == datetime(2026, 1, 19, tzinfo=UTC)
    assert w.as_json()["weeks_cut_after"] == 1


def test_naive_times_give_a_utc_cutoff() -> None:
    # Spark's timestamps come without their zone: the cutoff is the same instant, in UTC
    w = observed_window(_spans(DRAIN, naive=True))
    assert w is not None
    assert w.cutoff == datetime(2026, 1, 19, tzinfo=UTC) and w.cutoff.tzinfo is UTC


def test_nothing_resolved_or_nothing_at_all_has_no_window() -> None:
    # arrivals but no resolution (`not arrivals or not completions`): None
    assert observed_window(_spans([(at(0), None, 3), (at(1), None, 2)])) is None
    assert observed_window(_spans([])) is None


def test_a_summary_without_times_to_resolve_has_no_cutoff() -> None:
    # resolutions are dated but no time to resolve is known: no cutoff (None, not ""), nothing
    # cut; `len(hours) or last_resolved` would take a percentile of no hours
    table = _spans([(at(0), 24.0, 2), (at(1), 24.0, 2)])
    table = table.set_column(4, "hours", pa.array([None] * 4, type=pa.float64()))
    w = observed_window(table)
    assert w is not None
    assert w.cutoff is None
    assert w.as_json()["resolution_cutoff"] is None
    assert (w.start, w.end) == (W(0), W(1))


# --- incident_spans (DuckDB) ------------------------------------------------------------------------


def test_incident_spans_per_incident_not_cancelled() -> None:
    schema = SCHEMAS["ticket"]
    t = datetime(2026, 1, 7, 8, tzinfo=UTC)  # a Wednesday of W0
    rows = [
        # resolved and closed: not open; 121.5 h: resolved Monday 09:30 of W1
        {"ticket_id": "A", "ticket_type": "incident", "opened_at": t, "resolved_at": t + timedelta(hours=121.5),
         "closed_at": t + timedelta(days=3)},
        # resolved, not closed yet: not open (`&`, not `|`)
        {"ticket_id": "B", "ticket_type": "incident", "opened_at": t, "resolved_at": t + timedelta(hours=2)},
        # closed without a resolution: not open
        {"ticket_id": "C", "ticket_type": "incident", "opened_at": t, "closed_at": t + timedelta(hours=1)},
        # neither: open
        {"ticket_id": "D", "ticket_type": "incident", "opened_at": t + timedelta(days=7)},
        # left out: cancelled, without an opening, not an incident
        {"ticket_id": "E", "ticket_type": "incident", "opened_at": t, "cancelled_at": t + timedelta(hours=1)},
        {"ticket_id": "F", "ticket_type": "incident", "resolved_at": t},
        {"ticket_id": "G", "ticket_type": "request", "opened_at": t},
    ]  # fmt: skip
    r = records_from_arrow({"ticket": pa.table({f.name: [x.get(f.name) for x in rows] for f in schema}, schema=schema)})
    got = sorted(r.execute(incident_spans(r)).to_pylist(), key=lambda x: (x["opened"], x["hours"] or 0))
    assert [(x["opened_week"], x["resolved_week"], x["hours"], x["open"]) for x in got] == [
        (W(0), None, None, 0),  # C
        (W(0), W(0), 2.0, 0),  # B
        (W(0), W(1), 121.5, 0),  # A
        (W(1), None, None, 1),  # D
    ]
    assert got[2]["resolved"] == datetime(2026, 1, 12, 9, 30, tzinfo=UTC)


def test_observed_window_of_incident_spans_on_duckdb() -> None:
    # the summary as the engine gives it reads like the hand-made one
    schema = SCHEMAS["ticket"]
    rows = []
    for i, (opened, hours, n) in enumerate(DRAIN):
        for j in range(n):
            resolved = None if hours is None else opened + timedelta(hours=hours)
            rows.append(
                {"ticket_id": f"I{i}-{j}", "ticket_type": "incident", "opened_at": opened, "resolved_at": resolved}
            )
    r = records_from_arrow({"ticket": pa.table({f.name: [x.get(f.name) for x in rows] for f in schema}, schema=schema)})
    w = observed_window(r.execute(incident_spans(r)))
    assert w == observed_window(_spans(DRAIN))


# --- the resolution-time trend inside the window (incident_time._trend_finish, _month_end) ----------


def test_month_end_is_the_last_microsecond_of_the_month() -> None:
    # December rolls over to January of the next year (`mon // 12`, `mon % 12`, `month[5:]`)
    assert _month_end("2026-12") == datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert _month_end("2026-01") == datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert _month_end("2026-11") == datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC)


_LAST = datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=UTC)  # March's last microsecond

# Five incidents each Monday 00:00 from 01-05 to 03-16, four on 03-23 and one opened at March's
# last microsecond (Tuesday of the week of 03-30): January 20 (W0 01-05 … 01-26), February 20,
# March 20. January's take 24 h, February's 36 h, March's 48 h (each ends in its week). The
# extract is closed-only; hours p90 = 48 (index 53.1 of 60), the last resolution 04-02
# 23:59:59.999999: the cutoff is March's last microsecond itself, whose Monday (03-30) is the
# window's end: nothing is cut.
TREND = (
    [(datetime(2026, 1, 5, tzinfo=UTC) + timedelta(weeks=k), 24.0, 5) for k in range(4)]
    + [(datetime(2026, 2, 2, tzinfo=UTC) + timedelta(weeks=k), 36.0, 5) for k in range(4)]
    + [(datetime(2026, 3, 2, tzinfo=UTC) + timedelta(weeks=k), 48.0, 5) for k in range(3)]
    + [(datetime(2026, 3, 23, tzinfo=UTC), 48.0, 4), (_LAST, 48.0, 1)]
)


def test_trend_counts_the_window_start_and_the_cutoff_and_a_month_ending_at_it() -> None:
    value, extra = _trend_finish(_spans(TREND))
    window = observed_window(_spans(TREND))
    assert window is not None and window.cutoff == _LAST
    assert window.start == date(2026, 1, 5) and window.end == date(2026, 3, 30)
    # (48 - 24) / 24; January keeps its five opened at the window's start (`>=`), March the one
    # opened at the cutoff (`<=`) and March itself, whose end is the cutoff (`<=`): 20 each
    assert value == 1.0
    assert extra == {
        "window": window.as_json(),
        "_note": None,
        "month": {
            "2026-01": {"value": 24.0, "n": 20},
            "2026-02": {"value": 36.0, "n": 20},
            "2026-03": {"value": 48.0, "n": 20},
        },
        "_n": 60,
    }


def test_trend_needs_three_full_months() -> None:
    # without the one opened at the cutoff, March holds 19: two months left
    value, extra = _trend_finish(_spans(TREND[:-1]))
    window = observed_window(_spans(TREND[:-1]))
    assert window is not None
    assert value is None
    assert extra == {
        "window": window.as_json(),
        "_note": window.note(),
        "_reason": "fewer than three full months with 20 resolved incidents inside the extract window",
    }


def test_trend_of_nothing_resolved() -> None:
    assert _trend_finish(_spans([(at(0), None, 3)])) == (None, {"_reason": "no resolved incident"})
