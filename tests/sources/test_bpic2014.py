from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from itsm_doctor.intake.run import run_intake


def _q(ws: Path, table: str, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{ws}/records/{table}/*.parquet')")
    return con.execute(sql).fetchall()


@pytest.mark.realdata
def test_sample_gives_1500_incidents_with_interactions_activities_and_changes(data: Path, workspace: Path) -> None:
    result = run_intake([data / "bpic2014-sample"], source="bpic2014", workspace=workspace)
    read = {Path(f.file).name: (f.rows_read, f.rows_quarantined) for f in result.files}
    assert read == {
        "Detail_Change.csv": (412, 0),
        "Detail_Incident.csv": (1_500, 0),
        "Detail_Interaction.csv": (1_900, 0),
        "EventLog.csv": (27_531, 0),
    }
    assert dict(_q(workspace, "ticket", "SELECT ticket_type, count(*) FROM t GROUP BY 1")) == {
        "incident": 1_500,
        "interaction": 1_900,
        "change": 259,
    }
    assert dict(_q(workspace, "link", "SELECT relation, count(*) FROM t GROUP BY 1")) == {
        "originated_from": 1_961,
        "related": 22,
    }
    # every activity row, plus a resolve event for the 1,387 incidents whose Resolved Time no
    # Resolved activity tells (a derived event, at that time)
    assert _q(workspace, "event", "SELECT count(*), count(DISTINCT ticket_id) FROM t") == [(28_918, 1_500)]
    assert _q(workspace, "event", "SELECT count(*) FROM t WHERE origin = 'derived' AND kind = 'resolve'") == [(1_387,)]
    # IM0000004 opened 05/02/2012 13:32:57 Amsterdam time (CET, +01:00)
    assert _q(
        workspace,
        "ticket",
        "SELECT opened_at::VARCHAR, priority, reassignment_count FROM t WHERE ticket_id = 'bpic2014:IM0000004'",
    ) == [("2012-02-05 12:32:57+00", 4, 26)]


ORIGINAL = """Incident ID;DateStamp;IncidentActivity_Number;IncidentActivity_Type;Assignment Group;KM number;\
Interaction ID
IM0000001;01-07-2013 10:00:00;001A;Open;TEAM0001;;SD0000001
IM0000001;01-07-2013 10:05:00;001B;Assignment;TEAM0002;;
IM0000001;02-07-2013 09:00:00;001C;Closed;TEAM0002;;
"""
JOINED = """\ufeffIncident ID,Detail Incident Activity.IncidentActivity_Type,Detail Incident Activity.DateStamp,\
Detail Incident Activity.Assignment Group,Category,CI Subtype (CBy),Closure Code,# Reassignments,Impact,Urgency,Priority
IM0000001,Open,2013-07-01 10:00:00,TEAM0001,incident,Desktop,Other,1,4,4,4
IM0000001,Assignment,2013-07-01 10:05:00,TEAM0002,incident,Desktop,Other,1,4,4,4
IM0000001,Closed,2013-07-02 09:00:00,TEAM0002,incident,Desktop,Other,1,4,4,4
"""


def test_both_activity_layouts_give_the_same_events(tmp_path: Path) -> None:
    # both layouts are on one clock, Amsterdam local time (CEST in July: UTC+2)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "Detail_Incident_Activity.csv").write_text(ORIGINAL, encoding="latin-1")
    (tmp_path / "b" / "EventLog.csv").write_text(JOINED, encoding="utf-8")
    for name in ("a", "b"):
        result = run_intake([tmp_path / name], source="bpic2014", workspace=tmp_path / f"ws{name}")
        assert sum(f.rows_quarantined for f in result.files) == 0
    cols = "ticket_id, seq, ts::VARCHAR, kind, to_status, to_group_id, activity"
    original = _q(tmp_path / "wsa", "event", f"SELECT {cols} FROM t ORDER BY seq")
    assert original == _q(tmp_path / "wsb", "event", f"SELECT {cols} FROM t ORDER BY seq")
    assert original == [
        ("bpic2014:IM0000001", 1, "2013-07-01 08:00:00+00", "created", "new", None, "Open"),
        (
            "bpic2014:IM0000001",
            2,
            "2013-07-01 08:05:00+00",
            "group_change",
            "assigned",
            "bpic2014:TEAM0002",
            "Assignment",
        ),
        ("bpic2014:IM0000001", 3, "2013-07-02 07:00:00+00", "close", "closed", None, "Closed"),
    ]


INCIDENTS = """Incident ID;Status;Impact;Urgency;Priority;Category;# Reassignments;Open Time;Reopen Time;\
Resolved Time;Close Time;Closure Code
IM0000001;Closed;4;4;4;incident;1;01/07/2013 10:00:00;;01/07/2013 12:00:00;02/07/2013 09:00:00;Referred
IM0000002;Closed;4;4;4;incident;0;01/07/2013 11:00:00;;01/07/2013 11:30:00;01/07/2013 11:40:00;\
No error - works as designed
"""
ACTIVITIES = (
    JOINED
    # IM0000002's activities are one UTC offset (2 h in July) early, as 214 incidents of the sample
    + "IM0000002,Open,2013-07-01 09:00:10,TEAM0001,incident,Desktop,Other,0,4,4,4\n"
    + "\ufeffIM0000002,Assignment,2013-07-01 09:05:00,TEAM0001,incident,Desktop,Other,0,4,4,4\n"
)


def test_one_clock_ticket_carried_resolution_and_mid_file_boms(tmp_path: Path) -> None:
    (tmp_path / "Detail_Incident.csv").write_text(INCIDENTS, encoding="utf-8")
    (tmp_path / "EventLog.csv").write_text(ACTIVITIES, encoding="utf-8")
    result = run_intake([tmp_path], source="bpic2014", workspace=tmp_path / "ws")
    assert sum(f.rows_quarantined for f in result.files) == 0  # the mid-file BOM names IM0000002 all the same
    log = next(f for f in result.files if f.file.endswith("EventLog.csv"))
    assert "1 byte-order mark(s) inside the file (parts joined into one export): removed" in log.notes
    ws = tmp_path / "ws"
    # Open Time 10:00 CEST = 08:00 UTC and the Open activity at 10:00 local: the same instant
    rows = _q(ws, "event", "SELECT ticket_id, ts::VARCHAR, kind, origin FROM t ORDER BY ticket_id, seq")
    assert rows == [
        ("bpic2014:IM0000001", "2013-07-01 08:00:00+00", "created", "activity_log"),
        ("bpic2014:IM0000001", "2013-07-01 08:05:00+00", "group_change", "activity_log"),
        ("bpic2014:IM0000001", "2013-07-01 10:00:00+00", "resolve", "derived"),  # the Resolved Time
        ("bpic2014:IM0000001", "2013-07-02 07:00:00+00", "close", "activity_log"),
        ("bpic2014:IM0000002", "2013-07-01 07:00:10+00", "created", "activity_log"),
        ("bpic2014:IM0000002", "2013-07-01 07:05:00+00", "group_change", "activity_log"),
        ("bpic2014:IM0000002", "2013-07-01 09:30:00+00", "resolve", "derived"),
        ("bpic2014:IM0000002", "2013-07-01 09:40:00+00", "close", "derived"),
    ]
    # IM0000002 was opened at its Open activity, two hours before its Open Time
    assert _q(ws, "ticket", "SELECT ticket_id, opened_at::VARCHAR, resolution_code FROM t ORDER BY 1") == [
        ("bpic2014:IM0000001", "2013-07-01 08:00:00+00", "rejected"),
        ("bpic2014:IM0000002", "2013-07-01 07:00:10+00", "no_fault"),
    ]
    assert any("1 incident(s) have their Open activity before their Open Time" in n for n in result.notes)
    assert any("every file read as Europe/Amsterdam" in n for n in result.notes)


@pytest.mark.realdata
def test_sample_signs_measure_the_organisation_not_the_export(data: Path, workspace: Path) -> None:
    from itsm_doctor.engine import open_records
    from itsm_doctor.signs import compute, get_sign

    run_intake([data / "bpic2014-sample"], source="bpic2014", workspace=workspace)
    r = open_records(workspace)

    def sign(sign_id: str) -> Any:
        return compute(get_sign(sign_id), r)

    # kind 1: with the activity log read as UTC every first response carried the summer-time offset
    # (2.0006 h); on one clock the median incident's first response (assignment, status change or
    # comment) comes after 21 minutes, the offset gone
    first = sign("desk.time_to_first_response")
    assert first.value == pytest.approx(0.3544, abs=0.0001) and first.n == 1_500
    # kind 5: the Resolved Time the incidents carry is part of their lifecycle (it read 95.2 %
    # closed without resolution and 3.8 % conformance from the 73 Resolved activity rows)
    assert sign("process.skipped_resolution_rate").value == pytest.approx(41 / 1_500)
    assert sign("process.lifecycle_conformance").value == pytest.approx(1_240 / 1_500)
    # kind 7: no waiting state (customer-contact activities only), so waiting on the user is n/a,
    # not 0 % "good"; "No error - works as designed" (121) and "Referred" (5) are out of scope
    assert sign("incident.wait_user_rate").status == "n/a"
    assert sign("incident.out_of_scope_rate").value == pytest.approx(126 / 1_500)
    assert sign("incident.backlog_age_p90").status == "n/a"  # every incident is closed
    # kind 6: arrivals run to October 2013 and resolutions start then: the trends are n/a, with
    # what was cut (it read −83.5 % "good" for the MTTR trend)
    for trend in ("incident.mttr_trend", "incident.backlog_growth"):
        finding = sign(trend)
        assert finding.status == "n/a"
        assert finding.breakdowns["window"]["incidents_opened_before"] == 631  # Open Time before 14 Oct 2013
        assert finding.note is not None and "arrivals before 2013-10-14 are sparse" in finding.note
    # kind 3: the sample holds only the interactions behind its incidents (all 1,900 "N"): the
    # desk's flag would read 0 % by construction, so the incidents are measured
    fcr = sign("desk.first_contact_resolution")
    assert fcr.breakdowns["detail"]["measured_on"] == "incidents" and fcr.n == 1_500


def test_every_time_layout_of_the_log_is_read_in_one_column() -> None:
    """``strptime_first`` tries ISO-shaped text (a dash fifth) on the ``%Y-`` formats first and other
    text on the day-first ones first (the failed tries were most of the parse); each cell still gets
    the first format that reads it, whatever its neighbours' layout."""
    from itsm_doctor.sources.base import strptime_first
    from itsm_doctor.sources.bpic2014 import _FORMATS

    cells = [
        "05/02/2012 13:32:57",
        "05-02-2012 13:32:57",
        "05-02-2012 13:32",
        "05/02/2012 13:32",
        "2012-02-05 13:32:57",
        "5/2/2012 9:07:00",
        "2012-02-05T13:32:57",  # no such layout in the log: not read
        "Feb 5 2012",
        None,
    ]
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE c AS SELECT unnest(?::VARCHAR[]) AS v, generate_subscripts(?::VARCHAR[], 1) AS i", [cells, cells]
    )
    got = con.execute(f"SELECT strftime({strptime_first('v', _FORMATS)}, '%Y-%m-%d %H:%M:%S') FROM c ORDER BY i")
    assert [r[0] for r in got.fetchall()] == [
        "2012-02-05 13:32:57",
        "2012-02-05 13:32:57",
        "2012-02-05 13:32:00",
        "2012-02-05 13:32:00",
        "2012-02-05 13:32:57",
        "2012-02-05 09:07:00",
        None,
        None,
        None,
    ]
