"""Process mining on the engine, against the base log of tests/signs/base_log.yaml (worked by hand).

Status paths of the six incidents (consecutive repeats collapsed):
I1 new > assigned > in_progress > resolved > closed
I2 new > assigned > in_progress > assigned > in_progress > pending > in_progress > resolved > closed
I3 new > in_progress > pending > in_progress > resolved > in_progress > resolved > closed
I4 new > assigned > in_progress > pending > resolved > closed
I5 new > in_progress > closed
I6 new > in_progress > new
Group paths: I2 SD > NET > SD > NET, I4 SD > NET > DB, the others stay in SD.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from itsm_doctor.engine import Records, open_records
from itsm_doctor.signs.mining import case_durations, dfg, group_handovers, status_dfg, variants


def _edges(r: Records, table: Any) -> dict[tuple[str, str], tuple[int, float]]:
    return {(row["from"], row["to"]): (row["count"], row["median_h"]) for row in r.execute(table).to_pylist()}


def check_status_dfg(r: Records) -> None:
    edges = _edges(r, status_dfg(r))
    assert sum(c for c, _ in edges.values()) == 28
    assert edges[("new", "assigned")] == (3, pytest.approx(0.5))  # 0.5, 5 min, 0.5 h
    assert edges[("new", "in_progress")][0] == 3
    assert edges[("assigned", "in_progress")][0] == 4
    assert edges[("in_progress", "resolved")][0] == 4
    assert edges[("resolved", "closed")] == (4, pytest.approx(24.0))
    assert edges[("in_progress", "pending")][0] == 3
    assert edges[("pending", "in_progress")] == (2, pytest.approx((16 + 3 + 40 / 60) / 2))  # I2 16 h, I3 3 h 40
    assert edges[("resolved", "in_progress")] == (1, pytest.approx(18.0))  # I3 reopened 18 h after
    assert {k for k, (c, _) in edges.items() if c == 1} == {
        ("in_progress", "assigned"),
        ("pending", "resolved"),
        ("resolved", "in_progress"),
        ("in_progress", "closed"),
        ("in_progress", "new"),
    }


def check_group_dfg(r: Records) -> None:
    rows = r.execute(group_handovers(r)).to_pylist()
    assert [(x["from"], x["to"], x["count"]) for x in rows] == [("SD", "NET", 3), ("NET", "DB", 1), ("NET", "SD", 1)]
    # SD held I2 5 min then 1 h, I4 30 min: median 0.5 h; NET held I2 09:05 → 11:00
    assert rows[0]["median_h"] == pytest.approx(0.5)
    assert rows[2]["median_h"] == pytest.approx(115 / 60)
    assert r.execute(dfg(r, level="group")).to_pylist() == rows


def check_variants(r: Records) -> None:
    rows = r.execute(variants(r, top=3)).to_pylist()
    # six incidents, six different paths: each 1 ticket, 1/6; ties ordered by path
    assert [x["tickets"] for x in rows] == [1, 1, 1]
    assert [x["share"] for x in rows] == pytest.approx([1 / 6] * 3)
    assert rows[0]["path"] == " > ".join(
        ["new", "assigned", "in_progress", "assigned", "in_progress", "pending", "in_progress", "resolved", "closed"]
    )


def check_case_durations(r: Records) -> None:
    rows = {x["ticket_id"]: (x["events"], x["hours"]) for x in r.execute(case_durations(r)).to_pylist()}
    assert rows["I1"] == (5, pytest.approx(26.0))
    assert rows["I5"] == (3, pytest.approx(1.0))
    assert rows["I6"] == (4, pytest.approx(1.0))
    assert len(rows) == 6


CHECKS = [check_status_dfg, check_group_dfg, check_variants, check_case_durations]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_mining_on_duckdb(check: Any, base_records: Any) -> None:
    check(base_records("duckdb"))


@pytest.mark.spark
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_mining_on_spark(check: Any, spark: Any, base_records: Any) -> None:
    check(base_records("spark"))


def test_handover_network_of_a_taken_in_export(tiny_workspace: Path) -> None:
    r = open_records(tiny_workspace)
    rows = r.execute(group_handovers(r)).to_pylist()
    # 1-B goes T1 09:00 → T2 09:30 → T1 15:00 → T2 next day 09:00: T1 held it 0.5 h then 18 h
    assert [(x["from"], x["to"], x["count"], x["median_h"]) for x in rows] == [
        ("bpic2013:T1", "bpic2013:T2", 2, pytest.approx(9.25)),
        ("bpic2013:T2", "bpic2013:T1", 1, pytest.approx(5.5)),
    ]


def test_dfg_defaults_to_statuses(base_records: Any) -> None:
    # no level given: the status-level graph (dfg's default), edge for edge
    r = base_records("duckdb")
    assert r.execute(dfg(r)).to_pylist() == r.execute(dfg(r, level="status")).to_pylist()


def test_variants_default_to_the_ten_most_frequent(case_records: Any) -> None:
    # eleven incidents, each with a single status of its own (s00 … s10): eleven paths of one
    # ticket, the default lists the first ten by path
    names = [f"s{i:02d}" for i in range(11)]
    case = {
        "base": False,
        "add": {
            "ticket": [{"ticket_id": n, "ticket_type": "incident", "opened_at": "2026-01-05 08:00"} for n in names],
            "event": [
                {"ticket_id": n, "seq": 1, "ts": "2026-01-05 08:00", "kind": "created", "to_status": n} for n in names
            ],
        },
    }
    r = case_records(case)
    rows = r.execute(variants(r)).to_pylist()
    assert [x["path"] for x in rows] == names[:10]
    assert [x["share"] for x in rows] == pytest.approx([1 / 11] * 10)
