from __future__ import annotations

from pathlib import Path

import duckdb

from itsm_doctor.intake.run import run_intake


def test_bpic2013_csv_counts(data: Path, workspace: Path) -> None:
    result = run_intake([data / "bpic2013" / "VINST-incidents.csv.gz"], source="bpic2013", workspace=workspace)
    (f,) = result.files
    assert (f.rows_read, f.rows_accepted, f.rows_quarantined) == (65_533, 65_533, 0)
    assert result.records["ticket"] == 7_554
    assert result.records["event"] == 65_533
    con = duckdb.connect()
    groups = dict(
        con.execute(
            f"SELECT tier, count(*) FROM read_parquet('{workspace}/records/group/*.parquet') GROUP BY tier"
        ).fetchall()
    )
    # 235 L1 teams, 306 L2 (+1 "L2/L3" counted as tier 2), 107 L3: from the CSV's ST Level column.
    assert groups == {1: 235, 2: 307, 3: 107}
    first = con.execute(
        f"SELECT ts, to_status, to_group_id, to_agent_id FROM read_parquet('{workspace}/records/event/*.parquet') "
        "WHERE ticket_id = 'bpic2013:1-364285768' ORDER BY seq LIMIT 1"
    ).fetchone()
    assert first is not None
    assert str(first[0]) == "2010-03-31 14:59:42+00:00"
    assert first[1:] == ("in_progress", "bpic2013:V30", "bpic2013:Frederic")


def test_intake_is_idempotent(data: Path, workspace: Path) -> None:
    path = data / "bpic2013" / "VINST-incidents.csv.gz"
    first = run_intake([path], source="bpic2013", workspace=workspace)
    again = run_intake([path], source="bpic2013", workspace=workspace)
    assert again.reused and again.batch == first.batch
    assert len(list((workspace / "records" / "event").glob("*.parquet"))) == 1
