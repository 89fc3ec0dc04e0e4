"""Events a ticket row implies (a list export's opened, resolved and closed times), ordered in
the row instead of by derive's windows (intake/derive.py, ``_order_events_by_row``).

Ten tickets of one CSV through a mapping, each a case the windows handle, read off by hand;
then the same file through the windows (the row path switched off) must give the very same
records, table by table and row by row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from itsm_doctor.intake import derive
from itsm_doctor.intake.run import run_intake
from itsm_doctor.sources.base import IntakeSession, SourceOptions

MAPPING = """\
name: t
layout: tickets
time_formats: ["%Y-%m-%d %H:%M"]
columns:
  ticket_id: id
  status: state
  opened_at: opened
  resolved_at: resolved
  closed_at: closed
status_map:
  open: in_progress
  waiting: pending/awaiting_user
  solved: resolved
  done: closed
"""

# id, state, opened, resolved, closed
ROWS = [
    ("A", "done", "2026-01-05 08:00", "2026-01-05 10:00", "2026-01-06 09:00"),  # the usual three
    ("B", "done", "2026-01-05 08:00", "2026-01-05 10:00", "2026-01-05 10:00"),  # resolved and closed at once
    ("C", "done", "2026-01-05 08:00", "", "2026-01-05 12:00"),  # closed, never resolved
    ("D", "solved", "", "2026-01-05 11:00", ""),  # no opening time: the first event tells it
    ("E", "", "2026-01-05 08:00", "2026-01-05 09:30", ""),  # no status: the last event tells it
    ("F", "waiting", "2026-01-05 08:00", "", ""),  # pending, only opened
    ("G", "done", "2026-01-05 08:00", "2026-01-05 09:00", "2026-01-05 08:30"),  # closed before resolved
    ("H", "done", "2026-01-05 08:00", "2026-01-05 08:00", "2026-01-05 08:00"),  # all at one time
    ("I", "solved", "2026-01-05 12:00", "2026-01-05 09:00", ""),  # resolved before opened: quarantined
    ("A", "open", "2026-01-07 08:00", "", ""),  # A again: duplicate_key, quarantined
]


def _intake(tmp_path: Path, name: str) -> Path:
    src = tmp_path / "in"
    src.mkdir(exist_ok=True)
    (src / "map.yaml").write_text(MAPPING, encoding="utf-8")
    csv = src / "tickets.csv"
    csv.write_text("id,state,opened,resolved,closed\n" + "".join(",".join(r) + "\n" for r in ROWS), encoding="utf-8")
    ws = tmp_path / name
    result = run_intake([csv], source="csv", workspace=ws, options=SourceOptions(mapping=src / "map.yaml"))
    [f] = result.files
    assert (f.rows_read, f.rows_accepted, f.rows_quarantined) == (10, 8, 2)
    assert f.reasons == {"resolved_before_opened": 1, "duplicate_key": 1}
    return ws


def _rows(ws: Path, table: str, columns: str, order: str = "ticket_id, seq") -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(
        f"SELECT {columns} FROM read_parquet('{ws}/records/{table}/*.parquet') ORDER BY {order}"
    ).fetchall()


def test_events_and_intervals_of_ticket_rows_by_hand(tmp_path: Path) -> None:
    ws = _intake(tmp_path, "ws")
    events = _rows(ws, "event", "ticket_id, seq, strftime(ts, '%d %H:%M'), kind, from_status, to_status, event_id")
    assert events == [
        ("t:A", 1, "05 08:00", "created", None, "new", "t:A:1"),
        ("t:A", 2, "05 10:00", "resolve", "new", "resolved", "t:A:2"),
        ("t:A", 3, "06 09:00", "close", "resolved", "closed", "t:A:3"),
        ("t:B", 1, "05 08:00", "created", None, "new", "t:B:1"),
        ("t:B", 2, "05 10:00", "resolve", "new", "resolved", "t:B:2"),  # a tie keeps the items' order
        ("t:B", 3, "05 10:00", "close", "resolved", "closed", "t:B:3"),
        ("t:C", 1, "05 08:00", "created", None, "new", "t:C:1"),
        ("t:C", 2, "05 12:00", "close", "new", "closed", "t:C:2"),
        ("t:D", 1, "05 11:00", "resolve", None, "resolved", "t:D:1"),
        ("t:E", 1, "05 08:00", "created", None, "new", "t:E:1"),
        ("t:E", 2, "05 09:30", "resolve", "new", "resolved", "t:E:2"),
        ("t:F", 1, "05 08:00", "created", None, "new", "t:F:1"),
        ("t:G", 1, "05 08:00", "created", None, "new", "t:G:1"),
        ("t:G", 2, "05 08:30", "close", "new", "closed", "t:G:2"),  # by time, not by column
        ("t:G", 3, "05 09:00", "resolve", "closed", "resolved", "t:G:3"),
        ("t:H", 1, "05 08:00", "created", None, "new", "t:H:1"),
        ("t:H", 2, "05 08:00", "resolve", "new", "resolved", "t:H:2"),
        ("t:H", 3, "05 08:00", "close", "resolved", "closed", "t:H:3"),
    ]
    intervals = _rows(ws, "status_interval", "ticket_id, seq, status, strftime(start, '%d %H:%M'), duration_s")
    assert intervals == [
        ("t:A", 1, "new", "05 08:00", 7200.0),
        ("t:A", 2, "resolved", "05 10:00", 82800.0),
        ("t:A", 3, "closed", "06 09:00", None),
        ("t:B", 1, "new", "05 08:00", 7200.0),
        ("t:B", 2, "resolved", "05 10:00", 0.0),
        ("t:B", 3, "closed", "05 10:00", None),
        ("t:C", 1, "new", "05 08:00", 14400.0),
        ("t:C", 2, "closed", "05 12:00", None),
        ("t:D", 1, "resolved", "05 11:00", None),
        ("t:E", 1, "new", "05 08:00", 5400.0),
        ("t:E", 2, "resolved", "05 09:30", None),
        ("t:F", 1, "new", "05 08:00", None),
        ("t:G", 1, "new", "05 08:00", 1800.0),
        ("t:G", 2, "closed", "05 08:30", 1800.0),
        ("t:G", 3, "resolved", "05 09:00", None),
        ("t:H", 1, "new", "05 08:00", 0.0),
        ("t:H", 2, "resolved", "05 08:00", 0.0),
        ("t:H", 3, "closed", "05 08:00", None),
    ]
    tickets = _rows(
        ws,
        "ticket",
        "ticket_id, status, pending_reason, strftime(opened_at, '%d %H:%M'), strftime(resolved_at, '%d %H:%M'), "
        "strftime(closed_at, '%d %H:%M')",
        order="ticket_id",
    )
    assert tickets == [
        ("t:A", "closed", None, "05 08:00", "05 10:00", "06 09:00"),
        ("t:B", "closed", None, "05 08:00", "05 10:00", "05 10:00"),
        ("t:C", "closed", None, "05 08:00", "05 12:00", "05 12:00"),  # resolved when closed
        ("t:D", "resolved", None, "05 11:00", "05 11:00", None),  # opened at its first event
        ("t:E", "resolved", None, "05 08:00", "05 09:30", None),  # the status of its last event
        ("t:F", "pending", "awaiting_user", "05 08:00", None, None),
        ("t:G", "closed", None, "05 08:00", "05 09:00", "05 08:30"),
        ("t:H", "closed", None, "05 08:00", "05 08:00", "05 08:00"),
    ]


def test_the_row_path_gives_the_records_of_the_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths: list[str] = []
    for name in ("_order_events", "_order_events_by_row"):
        real = getattr(derive, name)

        def spy(*args: object, _real: Any = real, _name: str = name) -> None:
            paths.append(_name)
            _real(*args)

        monkeypatch.setattr(derive, name, spy)
    by_row = _intake(tmp_path, "by_row")
    monkeypatch.setattr(derive, "_row_events", lambda session: None)
    by_window = _intake(tmp_path, "by_window")
    assert paths == ["_order_events_by_row", "_order_events"]
    con = duckdb.connect()
    for table in ("ticket", "event", "status_interval"):
        a, b = (f"read_parquet('{ws}/records/{table}/*.parquet')" for ws in (by_row, by_window))
        [(n,)] = con.execute(f"SELECT count(*) FROM {a}").fetchall()
        assert n == {"ticket": 8, "event": 18, "status_interval": 18}[table]
        for x, y in ((a, b), (b, a)):
            assert con.execute(f"SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y}").fetchall() == [], table


def test_a_ticket_row_event_needs_a_time_of_the_ticket(tmp_path: Path) -> None:
    session = IntakeSession(con=duckdb.connect(), scratch=tmp_path)
    with pytest.raises(ValueError, match="'title' is not a time of the ticket"):
        session.emit_ticket_row_events("x.csv", [("title", "created", "new")])


def test_ticket_row_events_beside_other_events_take_the_windows(tmp_path: Path) -> None:
    """One more event of another kind sends the intake down the windows: the ticket rows' events
    (staged without a key) get one and are all written, in order with the other."""
    con = duckdb.connect()
    session = IntakeSession(con=con, scratch=tmp_path)
    session.file_key("a.csv")  # as loading the file would (staged rows name it by its key)
    session.emit(
        "ticket",
        "SELECT 'T1' AS ticket_id, 'test' AS source, TIMESTAMPTZ '2026-01-05 08:00:00+00' AS opened_at, "
        "TIMESTAMPTZ '2026-01-05 10:00:00+00' AS resolved_at, 'a.csv' AS _file, 2 AS _row",
    )
    session.emit_ticket_row_events("a.csv", [("opened_at", "created", "new"), ("resolved_at", "resolve", "resolved")])
    assert session.events_by_ticket_row is not None
    session.emit(
        "event",
        "SELECT 'T1' AS ticket_id, TIMESTAMPTZ '2026-01-05 09:00:00+00' AS ts, 'status_change' AS kind, "
        "'in_progress' AS to_status, 'test' AS origin, 'a.csv' AS _file, 2 AS _row",
    )
    assert session.events_by_ticket_row is None
    derive.derive(session)
    sql, params = derive.final_event_sql(session)
    got = con.execute(
        f"SELECT seq, hour(ts), kind, from_status, to_status FROM ({sql}) ORDER BY seq", params
    ).fetchall()
    assert got == [
        (1, 8, "created", None, "new"),
        (2, 9, "status_change", "new", "in_progress"),
        (3, 10, "resolve", "in_progress", "resolved"),
    ]
