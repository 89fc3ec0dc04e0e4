"""Events emitted by row (``IntakeSession.emit_events_by_row``) beside events emitted whole.

A tiny export of five rows: T1 assigned at 09:00 to G1, in progress at 10:00, resolved at
11:00 at G2; T9, a ticket no file describes, at 09:00; T2 assigned to G1 at 09:30. A second,
whole emission gives T2 a group change to G3 at 09:00, before any status. Every value below
follows from that story. Every event has a group, so the group before an event is the
previous event's (``lag``); the statuses have a gap (the group change), so the status before
is the last one known (``last_value IGNORE NULLS``): both ways are checked.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from itsm_doctor.intake.derive import derive
from itsm_doctor.intake.run import _write
from itsm_doctor.sources.base import IntakeSession, RawTable

CSV = """id,at,status,grp
T1,2024-03-04 09:00:00+00,assigned,G1
T1,2024-03-04 10:00:00+00,in_progress,G1
T1,2024-03-04 11:00:00+00,resolved,G2
T9,2024-03-04 09:00:00+00,assigned,G1
T2,2024-03-04 09:30:00+00,assigned,G1
"""


def _session(tmp_path: Path) -> tuple[IntakeSession, RawTable, str]:
    path = tmp_path / "export.csv"
    path.write_text(CSV, encoding="utf-8")
    session = IntakeSession(con=duckdb.connect())
    raw = session.load(path, source="test")
    session.emit(
        "ticket",
        "SELECT id AS ticket_id, 'test' AS source, 'incident' AS ticket_type FROM (VALUES ('T1'), ('T2')) v(id)",
    )
    session.emit(
        "event",
        "SELECT 'T2' AS ticket_id, TIMESTAMPTZ '2024-03-04 09:00:00+00' AS ts, 'group_change' AS kind, "
        "'G3' AS to_group_id",
    )
    by_row = (
        f"SELECT {raw.col('id')} AS ticket_id, {raw.col('at')}::TIMESTAMPTZ AS ts, 'status_change' AS kind, "
        f"{raw.col('status')} AS to_status, {raw.col('grp')} AS to_group_id, 'row ' || _row AS activity, "
        f"? AS _file, _row FROM {raw.accepted}"
    )
    return session, raw, by_row


def _events(ws: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    return con.execute(
        "SELECT ticket_id, seq, event_id, kind, from_status, to_status, from_group_id, to_group_id, activity "
        f"FROM read_parquet('{ws}/event/*.parquet') ORDER BY ticket_id, seq"
    ).fetchall()


def test_events_by_row_are_whole_again_when_written(tmp_path: Path) -> None:
    session, raw, by_row = _session(tmp_path)
    session.emit_events_by_row(by_row, [raw.file], reads=[raw.name])
    derive(session)
    session.finish_files()
    (tmp_path / "stage").mkdir()
    counts, staged, _quarantine = _write(session, tmp_path / "stage")

    assert counts["event"] == 5 and counts["ticket"] == 2
    assert staged["event"] == [tmp_path / "stage" / "event" / "part-0.parquet"]  # one part: far below 128 MiB
    assert _events(tmp_path / "stage") == [
        ("T1", 1, "T1:1", "status_change", None, "assigned", None, "G1", "row 2"),  # line 1 is the header
        ("T1", 2, "T1:2", "status_change", "assigned", "in_progress", "G1", "G1", "row 3"),
        ("T1", 3, "T1:3", "status_change", "in_progress", "resolved", "G1", "G2", "row 4"),
        ("T2", 1, "T2:1", "group_change", None, None, None, "G3", None),
        ("T2", 2, "T2:2", "status_change", None, "assigned", "G3", "G1", "row 6"),
    ]
    # T9's row is quarantined, and its event, staged before, is not written
    report = session.files[0]
    assert (report.rows_read, report.rows_quarantined, report.reasons) == (5, 1, {"unknown_ticket": 1})


def test_an_emission_by_row_that_yields_two_events_for_a_row_is_caught(tmp_path: Path) -> None:
    session, raw, by_row = _session(tmp_path)
    session.emit_events_by_row(f"{by_row} UNION ALL {by_row}", [raw.file, raw.file], reads=[raw.name])
    derive(session)
    session.finish_files()
    with pytest.raises(RuntimeError, match="17 events written for 9 staged"):
        _write(session, tmp_path)
