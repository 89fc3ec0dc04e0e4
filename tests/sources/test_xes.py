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


LIFECYCLE_XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <trace><string key="concept:name" value="A"/>
    <event><string key="concept:name" value="Insert ticket"/>
      <date key="time:timestamp" value="2026-01-05T08:00:00Z"/></event>
    <event><string key="concept:name" value="Triage"/>
      <date key="time:timestamp" value="2026-01-05T09:00:00Z"/></event>
    <event><string key="concept:name" value="Wait"/>
      <date key="time:timestamp" value="2026-01-05T10:00:00Z"/></event>
    <event><string key="concept:name" value="Resolve ticket"/>
      <date key="time:timestamp" value="2026-01-05T12:00:00Z"/></event>
    <event><string key="concept:name" value="Closed"/>
      <date key="time:timestamp" value="2026-01-06T12:00:00Z"/></event>
  </trace>
  <trace><string key="concept:name" value="B"/>
    <event><string key="concept:name" value="Insert ticket"/>
      <date key="time:timestamp" value="2026-01-07T08:00:00Z"/></event>
    <event><string key="concept:name" value="Completed"/>
      <date key="time:timestamp" value="2026-01-07T10:00:00Z"/></event>
  </trace>
</log>
"""


def _write_xes(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_generic_xes_lifecycle_from_the_vocabulary(tmp_path: Path) -> None:
    path = _write_xes(tmp_path / "log.xes", LIFECYCLE_XES)
    result = run_intake([path], source="xes", workspace=tmp_path / "ws")
    events = _table(tmp_path / "ws", "event", "ticket_id, seq, activity, kind, to_status, pending_reason")
    assert events == [
        ("xes:A", 1, "Insert ticket", "status_change", "new", None),
        ("xes:A", 2, "Triage", "activity", None, None),
        ("xes:A", 3, "Wait", "status_change", "pending", "unknown"),
        ("xes:A", 4, "Resolve ticket", "resolve", "resolved", None),
        ("xes:A", 5, "Closed", "close", "closed", None),
        ("xes:B", 1, "Insert ticket", "status_change", "new", None),
        ("xes:B", 2, "Completed", "close", "closed", None),  # ended without a resolution
    ]
    tickets = _table(tmp_path / "ws", "ticket", "ticket_id, status, resolved_at::VARCHAR, closed_at::VARCHAR")
    assert tickets == [
        ("xes:A", "closed", "2026-01-05 12:00:00+00", "2026-01-06 12:00:00+00"),
        ("xes:B", "closed", "2026-01-07 10:00:00+00", "2026-01-07 10:00:00+00"),
    ]
    assert any("'completed' → closed" in n and "'wait' → pending" in n for n in result.notes)


def test_generic_xes_whose_lifecycle_cannot_be_told_makes_backlog_signs_na(tmp_path: Path) -> None:
    from itsm_doctor.engine import open_records
    from itsm_doctor.signs import compute, get_sign

    text = LIFECYCLE_XES.replace("Resolve ticket", "Step 3").replace('"Closed"', '"Step 4"')
    text = text.replace("Completed", "Step 2").replace("Wait", "Step 1")
    result = run_intake([_write_xes(tmp_path / "log.xes", text)], source="xes", workspace=tmp_path / "ws")
    assert any("its lifecycle cannot be told" in n for n in result.notes)
    r = open_records(tmp_path / "ws")
    for sign in ("incident.backlog_growth", "incident.backlog_age_p90", "incident.demand_capacity_ratio"):
        finding = compute(get_sign(sign), r)
        assert finding.status == "n/a"
        assert finding.reason is not None and "lifecycle cannot be told" in finding.reason


def test_generic_xes_lifecycle_mapping_replaces_the_vocabulary(tmp_path: Path) -> None:
    mapping = tmp_path / "lifecycle.yaml"
    mapping.write_text("activity_map:\n  Triage: in_progress\n  Completed: resolved\n", encoding="utf-8")
    path = _write_xes(tmp_path / "log.xes", LIFECYCLE_XES)
    from itsm_doctor.sources.base import SourceOptions

    run_intake([path], source="xes", workspace=tmp_path / "ws", options=SourceOptions(mapping=mapping))
    events = _table(tmp_path / "ws", "event", "ticket_id, activity, to_status")
    assert [e for e in events if e[2] is not None] == [
        ("xes:A", "Triage", "in_progress"),
        ("xes:B", "Completed", "resolved"),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("activity_map:\n  Done: finished\n", encoding="utf-8")
    with pytest.raises(IntakeError, match=r"bad.yaml.*activity_map.*not a canonical status"):
        run_intake([path], source="xes", workspace=tmp_path / "ws2", options=SourceOptions(mapping=bad))


@pytest.mark.realdata
def test_helpdesk_xes_reads_the_same_lifecycle_as_the_csv_mapping(data: Path, tmp_path: Path) -> None:
    from itsm_doctor.engine import open_records
    from itsm_doctor.signs import compute, get_sign

    run_intake([data / "helpdesk" / "Helpdesk.xes.gz"], source="xes", workspace=tmp_path / "xes")
    mapping = Path(__file__).parents[2] / "examples" / "mappings" / "helpdesk.yaml"
    from itsm_doctor.sources.base import SourceOptions

    run_intake(
        [data / "helpdesk" / "Helpdesk.csv.gz"],
        source="csv",
        workspace=tmp_path / "csv",
        options=SourceOptions(mapping=mapping),
    )
    found = {}
    for name in ("xes", "csv"):
        r = open_records(tmp_path / name)
        found[name] = {
            s: compute(get_sign(s), r).value
            for s in ("incident.backlog_growth", "incident.backlog_age_p90", "incident.mttr", "incident.reopen_rate")
        }
    assert found["xes"] == pytest.approx(found["csv"])
    # every case but 11 ends (Closed, Resolve ticket…): the backlog no longer grows from unended
    # cases (it read +0.88 a week "present", with a p90 age of 29,285 h, before the vocabulary)
    assert abs(found["xes"]["incident.backlog_growth"]) < 0.5
    assert found["xes"]["incident.backlog_age_p90"] < 29_285
