from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

from itsm_doctor.intake.run import run_intake
from itsm_doctor.sources.base import IntakeError

TICKET_COLS = (
    "ticket_id, ticket_type, priority, priority_raw, impact, service_id, status, pending_reason, opened_at, "
    "resolved_at, closed_at, assigned_group_id, assignee_id"
)
EVENT_COLS = (
    "ticket_id, seq, ts, kind, to_raw, from_status, to_status, pending_reason, from_group_id, to_group_id, "
    "to_agent_id, activity, lifecycle"
)


def _table(ws: Path, table: str, cols: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(f"SELECT {cols} FROM read_parquet('{ws}/records/{table}/*.parquet') ORDER BY ALL").fetchall()


@pytest.mark.realdata
def test_bpic2013_xes_gives_the_same_records_as_the_csv(data: Path, tmp_path: Path) -> None:
    run_intake([data / "bpic2013" / "VINST-incidents.csv.gz"], source="bpic2013", workspace=tmp_path / "csv")
    xes = run_intake(
        [data / "bpic2013" / "bpi_challenge_2013_incidents.xes.gz"], source="xes", workspace=tmp_path / "xes"
    )
    assert xes.files[0].rows_read == 65_533 and xes.records["ticket"] == 7_554 and xes.records["event"] == 65_533

    # The published CSV garbled non-ASCII names (latin-1 read as Mac Roman, "Torbjörn" → "Torbjˆrn");
    # the bpic2013 reader repairs them, so the records are identical.
    assert _table(tmp_path / "csv", "ticket", TICKET_COLS) == _table(tmp_path / "xes", "ticket", TICKET_COLS)
    assert _table(tmp_path / "csv", "event", EVENT_COLS) == _table(tmp_path / "xes", "event", EVENT_COLS)
    agents = "agent_id, display_name"
    assert _table(tmp_path / "csv", "agent", agents) == _table(tmp_path / "xes", "agent", agents)
    # the XES has no ST Level: its groups carry no tier
    assert _table(tmp_path / "xes", "group", "count(*) FILTER (WHERE tier IS NOT NULL)") == [(0,)]


@pytest.mark.realdata
def test_helpdesk_xes_reports_its_127_duplicates(data: Path, tmp_path: Path) -> None:
    result = run_intake([data / "helpdesk" / "Helpdesk.xes.gz"], source="xes", workspace=tmp_path / "ws")
    [f] = result.files
    assert (f.rows_read, f.rows_quarantined, f.reasons) == (21_348, 127, {"exact_duplicate": 127})
    assert result.records["ticket"] == 4_580 and result.records["event"] == 21_348 - 127


XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <trace><string key="concept:name" value="T1"/><string key="customer" value="ACME"/>
    <event><string key="concept:name" value="Open"/><date key="time:timestamp" value="2026-01-05T10:00:00+02:00"/>
      <string key="org:resource" value="ana"/><string key="org:group" value="Desk"/>
      <string key="extra" value="x"/></event>
    <event><string key="concept:name" value="Close"/><date key="time:timestamp" value="2026-01-05T12:30:00+02:00"/>
      <string key="org:resource" value="ana"/></event>
    <event><string key="concept:name" value="Close"/><date key="time:timestamp" value="2026-01-05T12:30:00+02:00"/>
      <string key="org:resource" value="ana"/></event>
  </trace>
  <trace><string key="concept:name" value="T2"/>
    <event><string key="concept:name" value="Open"/><date key="time:timestamp" value="yesterday"/></event>
  </trace>
</log>
"""


def test_generic_xes_attributes_utc_and_quarantine(tmp_path: Path) -> None:
    path = tmp_path / "log.xes.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(XES)
    result = run_intake([path], source="xes", workspace=tmp_path / "ws")
    [f] = result.files
    assert (f.rows_read, f.rows_quarantined) == (4, 2)
    assert f.reasons == {"exact_duplicate": 1, "unparseable_time": 1}
    events = _table(tmp_path / "ws", "event", "ticket_id, ts::VARCHAR, activity, actor_id, to_group_id, raw")
    assert events == [
        ("xes:T1", "2026-01-05 08:00:00+00", "Open", "xes:ana", "xes:Desk", '{"extra": "x"}'),
        ("xes:T1", "2026-01-05 10:30:00+00", "Close", "xes:ana", None, None),
    ]
    assert _table(tmp_path / "ws", "ticket", "ticket_id, raw") == [("xes:T1", '{"customer": "ACME"}')]


def test_malformed_and_truncated_xes_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xes"
    bad.write_text(XES.replace("</trace>\n  <trace>", "</trace>\n  <trace"), encoding="utf-8")
    with pytest.raises(IntakeError, match=r"file .*bad.xes, row 1[0-9]: the XML is malformed"):
        run_intake([bad], source="xes", workspace=tmp_path / "ws")
    cut = tmp_path / "cut.xes.gz"
    cut.write_bytes(gzip.compress(XES.encode())[:200])
    with pytest.raises(IntakeError, match=r"cut.xes.gz.*(damaged or truncated|malformed)"):
        run_intake([cut], source="xes", workspace=tmp_path / "ws2")
