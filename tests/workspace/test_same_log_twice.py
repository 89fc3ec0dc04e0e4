"""Issue 14 kind 8: the same ticket id from two files of one intake never becomes two tickets —
the later file's rows for it are quarantined as duplicate_key, with a note naming the first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from itsm_doctor.intake.run import run_intake


def test_the_same_export_under_two_names_gives_each_ticket_once(tmp_path: Path, exports: Any) -> None:
    rows = exports.rows(range(10))
    a = exports.write(tmp_path / "a.csv", rows)
    b = exports.write(tmp_path / "b.csv", rows[:15] + exports.rows(range(10, 12)))  # tickets 0-4 again, and 10-11
    result = run_intake([a, b], source="bpic2013", workspace=tmp_path / "ws")
    by_name = {Path(f.file).name: f for f in result.files}
    assert (by_name["a.csv"].rows_read, by_name["a.csv"].rows_quarantined) == (30, 0)
    assert (by_name["b.csv"].rows_read, by_name["b.csv"].rows_quarantined) == (21, 15)
    assert by_name["b.csv"].reasons == {"duplicate_key": 15}
    assert any("5 ticket(s) of this file are given already by" in n for n in by_name["b.csv"].notes)
    assert result.records["ticket"] == 12 and result.records["event"] == 36


@pytest.mark.realdata
def test_bpic2013_folder_with_xes_and_csv_of_one_log(data: Path, tmp_path: Path) -> None:
    result = run_intake([data / "bpic2013"], source="bpic2013", workspace=tmp_path / "ws")
    by_name = {Path(f.file).name: f for f in result.files}
    xes = by_name["bpi_challenge_2013_incidents.xes.gz"]
    # the XES repeats the CSV's 7,554 incidents and 65,533 events: all of it quarantined
    assert (xes.rows_read, xes.rows_quarantined, xes.reasons) == (65_533, 65_533, {"duplicate_key": 65_533})
    assert by_name["VINST-incidents.csv.gz"].rows_quarantined == 0
    con = duckdb.connect()
    incidents = con.execute(
        f"SELECT count(*), count(DISTINCT ticket_id) FROM read_parquet('{tmp_path}/ws/records/ticket/*.parquet') "
        "WHERE ticket_type = 'incident'"
    ).fetchall()
    assert incidents == [(7_554, 7_554)]
    [(events,)] = con.execute(
        f"SELECT count(*) FROM read_parquet('{tmp_path}/ws/records/event/*.parquet') e "
        f"JOIN read_parquet('{tmp_path}/ws/records/ticket/*.parquet') t USING (ticket_id) "
        "WHERE t.ticket_type = 'incident'"
    ).fetchall()
    assert events == 65_533
