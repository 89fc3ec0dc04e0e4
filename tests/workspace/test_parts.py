"""Records written as parts (records/storage.py, ADR 0021): a batch's table in several Parquet files,
read back whole, with the row accounting and the cross-batch dedupe unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from itsm_doctor.engine import open_records
from itsm_doctor.intake.run import run_intake
from itsm_doctor.intake.workspace import committed_files, load_manifest
from itsm_doctor.records import storage


def _incidents(path: Path, numbers: range, *, closed_day: int, bad_states: int = 0) -> None:
    """A ServiceNow incident list: each incident opened on 2025-03-01, resolved a day later and closed on
    ``closed_day``; the last ``bad_states`` rows have a state no vocabulary knows."""
    lines = ["number,state,opened_at,resolved_at,closed_at,assignment_group"]
    for i, n in enumerate(numbers):
        state = "Sleeping" if i >= len(numbers) - bad_states else "Closed"
        lines.append(
            f"INC{n:07d},{state},2025-03-01 09:00:00,2025-03-02 09:00:00,2025-03-{closed_day:02d} 09:00:00,G{n % 7}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    # row groups of 500 rows and parts of 16 KiB: a few thousand events make several parts
    monkeypatch.setattr(storage, "PART_BYTES", 16 << 10)
    monkeypatch.setattr(storage, "ROW_GROUP_ROWS", 500)


def test_a_table_in_several_parts_reads_back_whole(tmp_path: Path, small_parts: None) -> None:
    _incidents(tmp_path / "incident.csv", range(1, 2003), closed_day=5, bad_states=2)
    result = run_intake([tmp_path / "incident.csv"], source="servicenow", workspace=tmp_path / "ws")

    # 2,002 rows read = 2,000 accepted + 2 quarantined (unknown state), each accepted incident gives
    # three events (created, resolve, close): 6,000
    [report] = result.files
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (2002, 2000, 2)
    assert report.reasons == {"unknown_status": 2}
    assert (result.records["ticket"], result.records["event"]) == (2000, 6000)

    parts = committed_files(tmp_path / "ws")
    assert len(parts["event"]) > 1
    [entry] = load_manifest(tmp_path / "ws")["batches"]
    assert entry["written"]["event"] == [
        f"records/event/{result.batch}-{i}.parquet" for i in range(len(parts["event"]))
    ]
    with duckdb.connect() as con:
        rows = [con.execute("SELECT count(*) FROM read_parquet(?)", [str(p)]).fetchone()[0] for p in parts["event"]]  # type: ignore[index]
        assert sum(rows) == 6000 and all(n > 0 for n in rows)
        # every (ticket, seq) once, three per incident: the parts hold each event exactly once
        files = [str(p) for p in parts["event"]]
        assert con.execute(
            "SELECT count(DISTINCT (ticket_id, seq)), count(DISTINCT ticket_id), max(seq) FROM read_parquet(?)",
            [files],
        ).fetchone() == (6000, 2000, 3)
    records = open_records(tmp_path / "ws")
    assert (records.counts["ticket"], records.counts["event"]) == (2000, 6000)
    assert records.execute(records.tables["event"].count()) == 6000


def test_parts_hold_the_same_rows_as_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _incidents(tmp_path / "incident.csv", range(1, 1501), closed_day=5)
    one = run_intake([tmp_path / "incident.csv"], source="servicenow", workspace=tmp_path / "one")
    monkeypatch.setattr(storage, "PART_BYTES", 16 << 10)
    monkeypatch.setattr(storage, "ROW_GROUP_ROWS", 500)
    many = run_intake([tmp_path / "incident.csv"], source="servicenow", workspace=tmp_path / "many")
    assert one.records == many.records
    single, split = committed_files(tmp_path / "one"), committed_files(tmp_path / "many")
    assert len(single["event"]) == 1 and len(split["event"]) > 1
    with duckdb.connect() as con:
        for table in ("ticket", "event", "status_interval"):
            a = f"read_parquet({[str(p) for p in single[table]]})"
            b = f"read_parquet({[str(p) for p in split[table]]})"
            assert con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchone() == (
                0,
            )
            assert con.execute(f"SELECT count(*) FROM (SELECT * FROM {b} EXCEPT ALL SELECT * FROM {a})").fetchone() == (
                0,
            )


def test_the_latest_version_wins_across_batches_of_parts(tmp_path: Path, small_parts: None) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # batch A: incidents 1-1,000 closed on the 5th; batch B: 501-2,000 closed on the 9th (later)
    _incidents(tmp_path / "a" / "incident.csv", range(1, 1001), closed_day=5)
    _incidents(tmp_path / "b" / "incident.csv", range(501, 2001), closed_day=9)
    a = run_intake([tmp_path / "a" / "incident.csv"], source="servicenow", workspace=ws)
    b = run_intake([tmp_path / "b" / "incident.csv"], source="servicenow", workspace=ws)
    assert (a.records["ticket"], b.records["ticket"]) == (1000, 1500)
    # A's incidents 501-1,000 are replaced by B's later versions: A keeps 500 tickets and 1,500 events
    manifest = load_manifest(ws)
    first = next(e for e in manifest["batches"] if e["batch"] == a.batch)
    assert first["superseded"] == 500
    assert (first["records"]["ticket"], first["records"]["event"]) == (500, 1500)
    records = open_records(ws)
    assert (records.counts["ticket"], records.counts["event"]) == (2000, 6000)
    # every part the manifest names is on disk, and no other
    on_disk = sorted((ws / "records").rglob("*.parquet"))
    assert on_disk == sorted(p for files in committed_files(ws).values() for p in files)
    closed = records.execute(records.tables["ticket"].filter(records.tables["ticket"].closed_at.day() == 9).count())
    assert closed == 1500
    assert json.loads((ws / "intake.json").read_text())["batches"][1]["superseded"] == 0
