from __future__ import annotations

from pathlib import Path

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
    assert _q(workspace, "event", "SELECT count(*), count(DISTINCT ticket_id) FROM t") == [(27_531, 1_500)]
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
IM0000001,Open,2013-07-01 08:00:00,TEAM0001,incident,Desktop,Other,1,4,4,4
IM0000001,Assignment,2013-07-01 08:05:00,TEAM0002,incident,Desktop,Other,1,4,4,4
IM0000001,Closed,2013-07-02 07:00:00,TEAM0002,incident,Desktop,Other,1,4,4,4
"""


def test_both_activity_layouts_give_the_same_events(tmp_path: Path) -> None:
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
