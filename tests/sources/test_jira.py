from __future__ import annotations

import json
from pathlib import Path

import duckdb

from itsm_doctor.intake.run import run_intake

CSV = (
    "Summary,Issue key,Issue id,Issue Type,Status,Priority,Assignee,Reporter,Created,Resolved,Component/s,Component/s,"
    "Custom field (Time to resolution),Comment,Comment,Outward issue link (Causes)\n"
    "VPN drops,ITSM-1,10001,Incident,Resolved,High,ana,bo,24/Nov/26 3:15 PM,24/Nov/26 5:45 PM,VPN,Network,met,"
    "first,second,\n"
    "New laptop,ITSM-2,10002,Service Request,Waiting for customer,Medium,,cy,25/Nov/26 9:00 AM,,Workplace,,,,,\n"
    "Bad change,ITSM-3,10003,Change,Done,Low,dee,bo,20/Nov/26 10:00 AM,21/Nov/26 10:00 AM,,,,,,ITSM-1\n"
    "Odd,ITSM-4,10004,Incident,Teleported,Low,,bo,25/Nov/26 9:00 AM,,,,,,,\n"
)
CHANGELOG = {
    "issues": [
        {
            "key": "ITSM-1",
            "changelog": {
                "histories": [
                    {
                        "created": "2026-11-24T15:20:00.000+0000",
                        "author": {"displayName": "ana"},
                        "items": [
                            {"field": "status", "fromString": "Open", "toString": "In Progress"},
                            {"field": "assignee", "fromString": None, "toString": "ana"},
                        ],
                    },
                    {
                        "created": "2026-11-24T17:45:00.000+0000",
                        "author": {"displayName": "ana"},
                        "items": [{"field": "status", "fromString": "In Progress", "toString": "Resolved"}],
                    },
                ]
            },
        }
    ]
}


def _q(ws: Path, table: str, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{ws}/records/{table}/*.parquet')")
    return con.execute(sql).fetchall()


def test_jira_csv_with_repeated_columns_and_its_changelog(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "changelog.json").write_text(json.dumps(CHANGELOG), encoding="utf-8")
    result = run_intake([tmp_path], source="jira", workspace=tmp_path / "ws")
    by_file = {Path(f.file).name: (f.rows_read, f.reasons) for f in result.files}
    assert by_file == {"export.csv": (4, {"unknown_status": 1}), "changelog.json": (3, {})}
    tickets = _q(
        tmp_path / "ws",
        "ticket",
        "SELECT ticket_id, ticket_type, status, pending_reason, priority, service_id, "
        "sla_met, opened_at::VARCHAR FROM t ORDER BY 1",
    )
    assert tickets == [
        ("jira:ITSM-1", "incident", "resolved", None, 2, "jira:VPN", True, "2026-11-24 15:15:00+00"),
        ("jira:ITSM-2", "request", "pending", "awaiting_user", 3, "jira:Workplace", None, "2026-11-25 09:00:00+00"),
        ("jira:ITSM-3", "change", "resolved", None, 4, None, None, "2026-11-20 10:00:00+00"),
    ]
    assert _q(tmp_path / "ws", "link", "SELECT * EXCLUDE (source) FROM t") == [
        # ITSM-3 "causes" ITSM-1: the incident is caused by the change
        ("jira:ITSM-1", "jira:ITSM-3", "caused_by")
    ]
    history = _q(
        tmp_path / "ws",
        "event",
        "SELECT kind, to_status, to_agent_id, origin FROM t WHERE ticket_id = 'jira:ITSM-1' ORDER BY seq",
    )
    assert history == [
        ("created", "new", None, "derived"),
        ("status_change", "in_progress", None, "history"),
        ("assignee_change", None, "jira:ana", "history"),
        # the changelog's resolution (17:45:00) is the Resolved cell's minute: no second, derived one
        ("status_change", "resolved", None, "history"),
    ]
