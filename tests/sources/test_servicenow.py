from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from itsm_doctor.intake.run import run_intake


def _rows(ws: Path, table: str, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{ws}/records/{table}/*.parquet')")
    return con.execute(sql).fetchall()


@pytest.mark.realdata
def test_snapshot_log_gives_3000_incidents_and_their_changes(data: Path, workspace: Path) -> None:
    result = run_intake([data / "servicenow-sample"], source="servicenow", workspace=workspace)
    [f] = result.files
    assert (f.rows_read, f.rows_accepted + f.rows_quarantined) == (21_453, 21_453)
    assert f.reasons == {"event_before_creation": 5}  # snapshots dated before the incident was opened
    assert result.records["ticket"] == 3_000
    kinds = dict(_rows(workspace, "event", "SELECT kind, count(*) FROM t GROUP BY kind"))
    assert kinds["status_change"] == 8_490 and kinds["group_change"] == 3_689 and kinds["reopen"] == 57
    # INC0000045 by hand: New (01:23) → Resolved (08:53) → an update → Closed (5 March 12:00)
    path = _rows(
        workspace, "event", "SELECT kind, to_status FROM t WHERE ticket_id = 'servicenow:INC0000045' ORDER BY seq"
    )
    assert path == [
        ("created", "new"),
        ("status_change", "resolved"),
        ("field_change", "resolved"),
        ("status_change", "closed"),
    ]
    [ticket] = _rows(
        workspace,
        "ticket",
        "SELECT priority, priority_raw, sla_met, status, channel FROM t WHERE ticket_id = 'servicenow:INC0000045'",
    )
    assert ticket == (3, "3 - Moderate", True, "closed", "phone")


LIST = """number,sys_id,state,opened_at,resolved_at,closed_at,assignment_group,assigned_to,priority,made_sla,caused_by
INC001,a1,Closed,2026-01-05 08:00:00,2026-01-05 10:00:00,2026-01-06 10:00:00,Service Desk,Ana,1 - Critical,true,?
INC002,a2,In Progress,2026-01-05 09:00:00,,,Network,Cy,3 - Moderate,,CHG9
INC003,a3,Teleported,2026-01-05 09:00:00,,,Network,Cy,3 - Moderate,,
"""
AUDIT = """tablename,documentkey,fieldname,oldvalue,newvalue,sys_created_on,user
incident,a2,assignment_group,Service Desk,Network,2026-01-05 09:30:00,bo
incident,a2,state,1,2,2026-01-05 09:40:00,cy
incident,a2,state,2,3,not a time,cy
"""


def test_list_with_display_values_and_an_unknown_state(tmp_path: Path) -> None:
    (tmp_path / "incident.csv").write_text(LIST, encoding="utf-8")
    result = run_intake([tmp_path / "incident.csv"], source="servicenow", workspace=tmp_path / "ws")
    [f] = result.files
    assert (f.rows_read, f.rows_quarantined, f.reasons) == (3, 1, {"unknown_status": 1})
    tickets = _rows(
        tmp_path / "ws", "ticket", "SELECT ticket_id, status, priority, caused_by_change_id FROM t ORDER BY 1"
    )
    assert tickets == [
        ("servicenow:INC001", "closed", 1, None),
        ("servicenow:INC002", "in_progress", 3, "servicenow:CHG9"),
    ]
    # no history given: events are what the timestamps imply
    events = _rows(tmp_path / "ws", "event", "SELECT ticket_id, kind, origin FROM t ORDER BY ticket_id, seq")
    assert events == [
        ("servicenow:INC001", "created", "derived"),
        ("servicenow:INC001", "resolve", "derived"),
        ("servicenow:INC001", "close", "derived"),
        ("servicenow:INC002", "created", "derived"),
    ]


def test_list_with_sys_audit_history(tmp_path: Path) -> None:
    (tmp_path / "incident.csv").write_text(LIST.replace("Teleported", "New"), encoding="utf-8")
    (tmp_path / "sys_audit.csv").write_text(AUDIT, encoding="utf-8")
    result = run_intake([tmp_path], source="servicenow", workspace=tmp_path / "ws")
    audit = next(f for f in result.files if f.file.endswith("sys_audit.csv"))
    assert (audit.rows_read, audit.reasons) == (3, {"unparseable_time": 1})
    events = _rows(
        tmp_path / "ws",
        "event",
        "SELECT kind, to_status, to_group_id, origin FROM t WHERE ticket_id = 'servicenow:INC002' ORDER BY seq",
    )
    assert events == [
        ("group_change", None, "servicenow:Network", "history"),
        ("status_change", "in_progress", None, "history"),
    ]


def test_xlsx_list_with_raw_codes(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "incident.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    rows = [
        ["number", "state", "opened_at", "priority", "impact", "urgency"],
        ["INC010", 6, "2026-02-01 08:00:00", 2, 1, 3],
        ["INC011", 8, "2026-02-01 09:00:00", 4, 3, 3],
    ]
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    book.close()
    result = run_intake([path], source="servicenow", workspace=tmp_path / "ws")
    assert result.files[0].rows_read == 2
    assert _rows(tmp_path / "ws", "ticket", "SELECT status, priority, impact, urgency FROM t ORDER BY ticket_id") == [
        ("resolved", 2, 1, 3),
        ("cancelled", 4, 3, 3),
    ]


@pytest.mark.realdata
def test_snapshot_sample_counters_and_gaps(data: Path, workspace: Path) -> None:
    from itsm_doctor.engine import open_records
    from itsm_doctor.signs import compute, get_sign

    result = run_intake([data / "servicenow-sample"], source="servicenow", workspace=workspace)
    assert any(n.startswith("1,474 of 3,000 records (49%) skip updates (gaps in sys_mod_count)") for n in result.notes)
    r = open_records(workspace)
    reassigned = compute(get_sign("incident.reassignment_rate"), r)
    # the history alone sees 48.2 %, the counter 54.0 %: the larger per incident (the counter is
    # never below the history here)
    assert reassigned.value == pytest.approx(1_620 / 3_000)
    assert reassigned.breakdowns["detail"]["counter_above"] == 533
    assert reassigned.breakdowns["detail"]["history_reassigned"] == pytest.approx(0.482, abs=0.0005)
    assert reassigned.note is not None and "differ on 533 incident(s)" in reassigned.note
    # every incident is resolved: first contact resolution is exactly the rest
    fcr = compute(get_sign("desk.first_contact_resolution"), r)
    assert fcr.value == pytest.approx(1 - reassigned.value)
    reopened = compute(get_sign("incident.reopen_rate"), r)
    assert reopened.value == pytest.approx(47 / 3_000)
    # the export's close codes ("code 6" …) are none of the closure-code vocabulary
    assert compute(get_sign("incident.out_of_scope_rate"), r).status == "n/a"


SNAPSHOT = """number,incident_state,sys_mod_count,opened_at,sys_updated_at,assignment_group,assigned_to,priority
INC7,New,0,2026-01-05 10:00:00,2026-01-05 10:00:00,Desk,?,3 - Moderate
INC7,Teleported,1,2026-01-05 10:00:00,2026-01-05 10:30:00,Desk,?,3 - Moderate
INC7,Active,2,2026-01-05 10:00:00,half past ten,Network,?,3 - Moderate
,Active,3,2026-01-05 10:00:00,2026-01-05 10:45:00,Network,?,3 - Moderate
INC7,Teleported,4,2026-01-05 10:00:00,eleven,Network,?,3 - Moderate
INC7,Resolved,5,2026-01-05 10:00:00,2026-01-05 12:00:00,Desk,Ana,3 - Moderate
INC8,Active,1,05/01/2026 09:00,05/01/2026 09:00,Desk,Bo,2 - High
INC8,Active,0,05/01/2026 09:00,05/01/2026 08:59,Desk,?,2 - High
"""


def test_snapshot_quarantines_bad_rows_before_diffing(tmp_path: Path) -> None:
    """Lines 3-6 of INC7 are quarantined (unknown state, unreadable update time, no number; line 6
    fails two checks and is named by the first, its time); INC7's diff then runs New → Resolved,
    as if the bad rows were never there. INC8's rows come out of order (sys_mod_count 1 before 0)
    and in day-first times."""
    (tmp_path / "log.csv").write_text(SNAPSHOT, encoding="utf-8")
    result = run_intake([tmp_path / "log.csv"], source="servicenow", workspace=tmp_path / "ws")
    [f] = result.files
    assert (f.rows_read, f.rows_accepted, f.rows_quarantined) == (8, 4, 4)
    assert f.reasons == {"missing_key": 1, "unknown_status": 1, "unparseable_time": 2}
    assert [(e["row"], e["column"], e["reason"], e["detail"]) for e in f.examples] == [
        (5, "number", "missing_key", "empty"),
        (3, "state", "unknown_status", "unknown state Teleported"),
        (4, "sys_updated_at", "unparseable_time", "cannot read half past ten as a time"),
        (6, "sys_updated_at", "unparseable_time", "cannot read eleven as a time"),
    ]
    events = _rows(
        tmp_path / "ws",
        "event",
        "SELECT ticket_id, strftime(ts, '%d %H:%M'), kind, from_raw, to_raw, to_group_id, to_agent_id FROM t "
        "ORDER BY ticket_id, seq",
    )
    assert events == [
        ("servicenow:INC7", "05 10:00", "created", None, "New", "servicenow:Desk", None),
        ("servicenow:INC7", "05 12:00", "status_change", "New", "Resolved", "servicenow:Desk", "servicenow:Ana"),
        ("servicenow:INC8", "05 08:59", "created", None, "Active", "servicenow:Desk", None),
        ("servicenow:INC8", "05 09:00", "assignee_change", "Active", "Active", "servicenow:Desk", "servicenow:Bo"),
    ]
    tickets = _rows(tmp_path / "ws", "ticket", "SELECT ticket_id, status, assignee_id, priority FROM t ORDER BY 1")
    assert tickets == [
        ("servicenow:INC7", "resolved", "servicenow:Ana", 3),
        ("servicenow:INC8", "in_progress", "servicenow:Bo", 2),
    ]
