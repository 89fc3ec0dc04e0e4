"""What intake derives from events alone (intake/derive.py), checked by hand on two tickets.

T1 is given out of order: 09:00 assigned to G1, 10:00 pending (awaiting user), 11:00
resolved, 12:00 back in progress at G2 (a reopen), 13:00 closed. T2 starts with a group
change before any status. Every number below is read off that story.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from itsm_doctor.intake.run import run_intake


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, 4, hour, minute, tzinfo=UTC)


def _records(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    tickets = pa.table(
        {
            "ticket_id": ["T1", "T2"],
            "source": ["test", "test"],
            "ticket_type": ["incident", "incident"],
            "opened_at": [_at(9), _at(9)],
        }
    )
    # (ticket, time, status, pending reason, group), T1's rows shuffled
    rows = [
        ("T1", _at(11), "resolved", None, None),
        ("T1", _at(9), "assigned", None, "G1"),
        ("T2", _at(9, 30), "assigned", None, None),
        ("T1", _at(13), "closed", None, None),
        ("T1", _at(10), "pending", "awaiting_user", None),
        ("T2", _at(9), None, None, "G1"),
        ("T1", _at(12), "in_progress", None, "G2"),
    ]
    events = pa.table(
        {
            "ticket_id": [r[0] for r in rows],
            "ts": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
            "kind": ["status_change" if r[2] else "group_change" for r in rows],
            "to_status": [r[2] for r in rows],
            "pending_reason": [r[3] for r in rows],
            "to_group_id": [r[4] for r in rows],
        }
    )
    pq.write_table(tickets, src / "ticket.parquet")
    pq.write_table(events, src / "event.parquet")
    ws = tmp_path / "ws"
    result = run_intake([src / "ticket.parquet", src / "event.parquet"], source="canonical", workspace=ws)
    assert result.records["event"] == 7 and result.rows_quarantined == 0
    return ws


def _rows(ws: Path, table: str, columns: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(
        f"SELECT {columns} FROM read_parquet('{ws}/records/{table}/*.parquet') ORDER BY ticket_id, seq"
    ).fetchall()


def test_events_get_order_previous_state_and_reopen(tmp_path: Path) -> None:
    ws = _records(tmp_path)
    got = _rows(ws, "event", "ticket_id, seq, hour(ts), kind, from_status, to_status, from_group_id")
    assert got == [
        ("T1", 1, 9, "status_change", None, "assigned", None),
        ("T1", 2, 10, "status_change", "assigned", "pending", "G1"),
        ("T1", 3, 11, "status_change", "pending", "resolved", "G1"),
        ("T1", 4, 12, "reopen", "resolved", "in_progress", "G1"),
        ("T1", 5, 13, "status_change", "in_progress", "closed", "G2"),
        ("T2", 1, 9, "group_change", None, None, None),
        ("T2", 2, 9, "status_change", None, "assigned", "G1"),
    ]
    ids = [r[0] for r in _rows(ws, "event", "event_id, ticket_id, seq")]
    assert ids == ["T1:1", "T1:2", "T1:3", "T1:4", "T1:5", "T2:1", "T2:2"]


def test_status_intervals_are_stretches_of_equal_state(tmp_path: Path) -> None:
    ws = _records(tmp_path)
    got = _rows(ws, "status_interval", "ticket_id, seq, status, pending_reason, group_id, hour(start), duration_s")
    assert got == [
        ("T1", 1, "assigned", None, "G1", 9, 3600.0),
        ("T1", 2, "pending", "awaiting_user", "G1", 10, 3600.0),
        ("T1", 3, "resolved", None, "G1", 11, 3600.0),
        ("T1", 4, "in_progress", None, "G2", 12, 3600.0),
        ("T1", 5, "closed", None, "G2", 13, None),
        ("T2", 1, None, None, "G1", 9, 1800.0),
        ("T2", 2, "assigned", None, "G1", 9, None),
    ]


def test_tickets_are_completed_from_their_events(tmp_path: Path) -> None:
    ws = _records(tmp_path)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    got = con.execute(
        "SELECT ticket_id, status, hour(resolved_at), hour(closed_at), assigned_group_id, hour(first_assigned_at) "
        f"FROM read_parquet('{ws}/records/ticket/*.parquet') ORDER BY ticket_id"
    ).fetchall()
    assert got == [("T1", "closed", 11, 13, "G2", 9), ("T2", "assigned", None, None, "G1", 9)]
