from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from itsm_doctor.intake.run import IntakeResult, run_intake
from itsm_doctor.sources.base import SourceOptions

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


# --- issue 21: each bullet on a small export ------------------------------------------------


def _history(key: str, *entries: tuple[str, str, list[tuple[str, str | None, str | None]]]) -> dict[str, object]:
    """An issue of the REST search: entries are (created, author, [(field, from, to)])."""
    return {
        "key": key,
        "changelog": {
            "histories": [
                {
                    "created": created,
                    "author": {"displayName": author},
                    "items": [{"field": f, "fromString": a, "toString": b} for f, a, b in items],
                }
                for created, author, items in entries
            ]
        },
    }


def _intake(tmp_path: Path, csv: str, issues: list[dict[str, object]] | None = None, **files: str) -> Path:
    folder = tmp_path / "export"
    folder.mkdir(parents=True)
    (folder / "export.csv").write_text(csv, encoding="utf-8")
    if issues is not None:
        (folder / "changelog.json").write_text(json.dumps({"issues": issues}), encoding="utf-8")
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text, encoding="utf-8")
    mapping = folder / "mapping.yaml" if "mapping_yaml" in files else None
    paths = [folder / "export.csv", *([folder / "changelog.json"] if issues is not None else [])]
    run_intake(paths, source="jira", workspace=tmp_path / "ws", options=SourceOptions(mapping=mapping))
    return tmp_path / "ws"


def _sign(ws: Path, sign_id: str) -> float | None:
    from itsm_doctor.engine import open_records
    from itsm_doctor.signs import examine_signs, get_sign

    [finding] = examine_signs(open_records(ws), signs=[get_sign(sign_id)])
    return finding.value


TEAMS = (
    "Issue key,Issue Type,Status,Priority,Reporter,Created,Resolved,Custom field (Team)\n"
    "ITSM-1,Incident,Resolved,High,cy,05/Jan/26 9:00 AM,05/Jan/26 5:00 PM,Network\n"
    "ITSM-2,Incident,Resolved,High,cy,05/Jan/26 9:00 AM,05/Jan/26 11:00 AM,Service Desk\n"
)
BOUNCES = [
    _history(
        "ITSM-1",
        ("2026-01-05T10:00:00.000+0000", "ana", [("Team", "Service Desk", "Network")]),
        ("2026-01-05T12:00:00.000+0000", "ned", [("Team", "Network", "Service Desk")]),
        ("2026-01-05T13:00:00.000+0000", "ana", [("Team", "Service Desk", "Network")]),
        ("2026-01-05T17:00:00.000+0000", "ned", [("status", "Open", "Resolved")]),
    ),
    _history("ITSM-2", ("2026-01-05T11:00:00.000+0000", "ana", [("status", "Open", "Resolved")])),
]


def test_group_history_from_the_team_field(tmp_path: Path) -> None:
    ws = _intake(tmp_path, TEAMS, BOUNCES)
    path = _q(
        ws,
        "event",
        "SELECT ticket_id, list(to_group_id ORDER BY seq) FILTER (WHERE to_group_id IS NOT NULL) FROM t "
        "GROUP BY 1 ORDER BY 1",
    )
    assert path == [
        ("jira:ITSM-1", ["jira:Service Desk", "jira:Network", "jira:Service Desk", "jira:Network"]),
        # no Team change in its history: created with the team it still has
        ("jira:ITSM-2", ["jira:Service Desk"]),
    ]
    assert _q(ws, "group", "SELECT group_id FROM t ORDER BY 1") == [("jira:Network",), ("jira:Service Desk",)]
    # ITSM-1 went SD → NET → SD → NET: reassigned, ping-pong; ITSM-2 stayed at the desk
    assert _sign(ws, "incident.reassignment_rate") == 0.5
    assert _sign(ws, "incident.ping_pong_rate") == 0.5
    assert _sign(ws, "desk.first_contact_resolution") == 0.5


def test_group_field_named_by_the_mapping_and_components_as_fallback(tmp_path: Path) -> None:
    csv = TEAMS.replace("Custom field (Team)", "Custom field (Support team)")
    issues = json.loads(json.dumps(BOUNCES).replace('"Team"', '"Support team"'))
    ws = _intake(tmp_path, csv, issues, mapping_yaml='group_fields: ["Support team"]\n')
    assert _sign(ws, "incident.ping_pong_rate") == 0.5
    # no Team or Assignment group anywhere: the components are the groups
    csv = TEAMS.replace("Custom field (Team)", "Component/s")
    issues = json.loads(json.dumps(BOUNCES).replace('"Team"', '"Component"'))
    ws = _intake(tmp_path / "components", csv, issues)
    assert _sign(ws, "incident.reassignment_rate") == 0.5
    # a CSV alone shows no group history: unknown, not "never reassigned"
    ws = _intake(tmp_path / "csv-only", TEAMS)
    assert _sign(ws, "incident.reassignment_rate") is None
    assert _q(ws, "ticket", "SELECT assigned_group_id FROM t ORDER BY ticket_id") == [
        ("jira:Network",),
        ("jira:Service Desk",),
    ]


LINKS = (
    "Issue key,Issue Type,Status,Created,Outward issue link (Causes),Inward issue link (Causes),"
    "Outward issue link (Problem/Incident),Inward issue link (Problem/Incident),Outward issue link (Duplicate),"
    "Outward issue link (Relates),Outward issue link (Polaris work item link)\n"
    "INC-1,Incident,Open,05/Jan/26 9:00 AM,,CHG-1,,PRB-1,,,\n"
    "INC-2,Incident,Open,05/Jan/26 9:00 AM,,,,,INC-1,INC-3,\n"
    "INC-3,Incident,Open,05/Jan/26 9:00 AM,,,,,,,IDEA-1\n"
    "CHG-1,Change,Done,04/Jan/26 9:00 AM,INC-3,,,,,,\n"
    "PRB-1,Problem,Open,05/Jan/26 9:00 AM,,,INC-2,,,,\n"
)


def test_every_link_type_read_as_a_canonical_link(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "export.csv").write_text(LINKS, encoding="utf-8")
    result = run_intake([folder], source="jira", workspace=tmp_path / "ws")
    ws = tmp_path / "ws"
    assert _q(ws, "link", "SELECT from_ticket_id, to_ticket_id, relation FROM t ORDER BY ALL") == [
        ("jira:INC-1", "jira:CHG-1", "caused_by"),  # Inward on INC-1: INC-1 is caused by CHG-1
        ("jira:INC-2", "jira:INC-1", "duplicate_of"),
        ("jira:INC-2", "jira:INC-3", "related"),
        ("jira:INC-3", "jira:CHG-1", "caused_by"),  # Outward on CHG-1: CHG-1 causes INC-3
        ("jira:INC-3", "jira:IDEA-1", "related"),  # a type no mapping knows: related (and noted)
        ("jira:PRB-1", "jira:INC-1", "problem_of"),  # Inward on INC-1: its problem is PRB-1
        ("jira:PRB-1", "jira:INC-2", "problem_of"),  # Outward on PRB-1: PRB-1 is INC-2's problem
    ]
    assert any("Polaris work item link" in n and "related" in n for n in result.notes)
    assert _q(
        ws,
        "ticket",
        "SELECT ticket_id, problem_id, caused_by_change_id FROM t WHERE ticket_type = 'incident' ORDER BY 1",
    ) == [
        ("jira:INC-1", "jira:PRB-1", "jira:CHG-1"),
        ("jira:INC-2", "jira:PRB-1", None),
        ("jira:INC-3", None, "jira:CHG-1"),
    ]
    assert _sign(ws, "problem.incident_link_rate") == 2 / 3


def test_an_incident_caused_by_a_change_either_way_round(tmp_path: Path) -> None:
    """Issue 20: "A causes B" (outward on the change) and "B is caused by A" (inward on the incident)."""
    header = "Issue key,Issue Type,Status,Created,{}\n"
    outward = header.format("Outward issue link (Causes)") + (
        "INC-1,Incident,Open,05/Jan/26 9:00 AM,\nCHG-1,Change,Done,04/Jan/26 9:00 AM,INC-1\n"
    )
    inward = header.format("Inward issue link (Causes)") + (
        "INC-1,Incident,Open,05/Jan/26 9:00 AM,CHG-1\nCHG-1,Change,Done,04/Jan/26 9:00 AM,\n"
    )
    for name, csv in (("outward", outward), ("inward", inward)):
        ws = _intake(tmp_path / name, csv)
        assert _q(ws, "link", "SELECT from_ticket_id, to_ticket_id, relation FROM t") == [
            ("jira:INC-1", "jira:CHG-1", "caused_by")
        ]
        assert _sign(ws, "incident.change_induced_share") == 1.0


COMMENTS = (
    "Issue key,Issue Type,Status,Reporter,Reporter Id,Assignee,Assignee Id,Created,Resolved,Comment,Comment,Comment\n"
    "ITSM-1,Incident,Resolved,Cy Customer,acc-cy,Ana Agent,acc-ana,05/Jan/26 9:00 AM,05/Jan/26 5:00 PM,"
    "05/Jan/26 11:00 AM;acc-ana;Could you send a screenshot?,"
    '"05/Jan/26 1:00 PM;acc-cy;Here it is; see the attachment\nthanks",'
    "yesterday;acc-ana;no date\n"
)


def test_comments_are_events_with_their_authors_role(tmp_path: Path) -> None:
    ws = _intake(tmp_path, COMMENTS)
    assert _q(
        ws, "event", "SELECT ts::VARCHAR, kind, actor_id, raw->>'comment' FROM t WHERE field = 'comment' ORDER BY ts"
    ) == [
        ("2026-01-05 11:00:00+00", "comment_public", "jira:Ana Agent", "Could you send a screenshot?"),
        ("2026-01-05 13:00:00+00", "customer_reply", "jira:Cy Customer", "Here it is; see the attachment\nthanks"),
    ]
    # 9:00 → 11:00 → 13:00 → 17:00: the longest silence is 4 h, not the 8 h of creation to resolution
    assert _sign(ws, "incident.longest_silence") == 4.0
    assert _sign(ws, "desk.time_to_first_response") == 2.0
    # the REST comments, when given, replace the CSV's: they carry seconds and JSM's internal flag
    issue = {
        "key": "ITSM-1",
        "fields": {
            "comment": {
                "comments": [
                    {
                        "created": "2026-01-05T10:30:15.000+0000",
                        "author": {"accountId": "acc-ana", "displayName": "Ana Agent"},
                        "jsdPublic": False,
                        "body": {
                            "type": "doc",
                            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "checking logs"}]}],
                        },
                    },
                    {
                        "created": "2026-01-05T12:00:00.000+0000",
                        "author": {"accountId": "acc-cy", "displayName": "Cy Customer"},
                        "jsdPublic": True,
                        "body": "still broken",
                    },
                ]
            }
        },
        "changelog": {"histories": []},
    }
    ws = _intake(tmp_path / "rest", COMMENTS, [issue])
    assert _q(ws, "event", "SELECT ts::VARCHAR, kind, raw->>'comment' FROM t WHERE field = 'comment' ORDER BY ts") == [
        ("2026-01-05 10:30:15+00", "comment_internal", "checking logs"),
        ("2026-01-05 12:00:00+00", "customer_reply", "still broken"),
    ]


def test_a_comment_without_a_date_is_noted_not_lost_silently(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "export.csv").write_text(COMMENTS, encoding="utf-8")
    result = run_intake([folder / "export.csv"], source="jira", workspace=tmp_path / "ws")
    [report] = result.files
    assert (report.rows_read, report.rows_quarantined) == (1, 0)
    assert report.notes == ["1 comment(s) in column 12 (Comment) have no readable date (date;author;text): left out"]


PRIORITIES = (
    "Issue key,Issue Type,Status,Priority,Created\n"
    "ITSM-1,Incident,Open,Low,05/Jan/26 9:00 AM\n"
    "ITSM-2,Incident,Open,Highest,05/Jan/26 9:00 AM\n"
    "ITSM-3,Incident,Open,Lowest,05/Jan/26 9:00 AM\n"
    "ITSM-4,Incident,Open,P2 - Urgent,05/Jan/26 9:00 AM\n"
)


def test_priority_names_by_rank_so_downgrades_are_measured(tmp_path: Path) -> None:
    issues = [
        _history("ITSM-1", ("2026-01-05T09:10:00.000+0000", "ana", [("priority", "High", "Low")])),
        _history("ITSM-2", ("2026-01-05T09:10:00.000+0000", "ana", [("priority", "Medium", "Highest")])),
        _history("ITSM-3", ("2026-01-05T09:10:00.000+0000", "ana", [("priority", "Low", "Lowest")])),
    ]
    ws = _intake(tmp_path, PRIORITIES, issues)
    assert _q(ws, "ticket", "SELECT ticket_id, priority, priority_raw FROM t ORDER BY 1") == [
        ("jira:ITSM-1", 4, "Low"),
        ("jira:ITSM-2", 1, "Highest"),
        ("jira:ITSM-3", 4, "Lowest"),  # five levels fold into four
        ("jira:ITSM-4", 2, "P2 - Urgent"),  # a scheme of its own: the leading number
    ]
    assert _q(
        ws,
        "event",
        "SELECT ticket_id, from_raw, to_raw, raw->>'toString' FROM t WHERE kind = 'priority_change' ORDER BY 1",
    ) == [
        ("jira:ITSM-1", "2 - High", "4 - Low", "Low"),
        ("jira:ITSM-2", "3 - Medium", "1 - Highest", "Highest"),
        ("jira:ITSM-3", "4 - Low", "5 - Lowest", "Lowest"),
    ]
    # ITSM-1 and ITSM-3 were lowered, ITSM-2 raised, ITSM-4 never changed
    assert _sign(ws, "incident.priority_downgrade_rate") == 0.5
    ws = _intake(tmp_path / "own", PRIORITIES, issues[:1], mapping_yaml="priorities: {P2 - Urgent: 1}\n")
    assert _q(ws, "ticket", "SELECT priority FROM t WHERE ticket_id = 'jira:ITSM-4'") == [(1,)]


MINUTE = (
    "Issue key,Issue Type,Status,Created,Resolved\n"
    "ITSM-1,Incident,Resolved,05/Jan/26 9:00 AM,05/Jan/26 10:05 AM\n"
    "ITSM-2,Incident,Resolved,05/Jan/26 9:00 AM,05/Jan/26 10:05 AM\n"
    "ITSM-3,Incident,Resolved,05/Jan/26 9:00 AM,05/Jan/26 4:00 PM\n"
)


def test_same_minute_ordering_never_invents_a_reopen(tmp_path: Path) -> None:
    issues = [
        # the resolution is in the changelog (10:05:40), in the Resolved cell's minute
        _history(
            "ITSM-1",
            ("2026-01-05T10:05:10.000+0000", "cy", [("status", "Waiting for customer", "In Progress")]),
            ("2026-01-05T10:05:40.000+0000", "ana", [("status", "In Progress", "Resolved")]),
        ),
        # the changelog lacks the resolution: the derived one comes after the minute's entries
        _history("ITSM-2", ("2026-01-05T10:05:30.000+0000", "cy", [("status", "Waiting for customer", "In Progress")])),
        # a true reopen
        _history(
            "ITSM-3",
            ("2026-01-05T10:00:00.000+0000", "ana", [("status", "Open", "Resolved")]),
            ("2026-01-05T12:00:00.000+0000", "cy", [("status", "Resolved", "Reopened")]),
            ("2026-01-05T16:00:20.000+0000", "ana", [("status", "Reopened", "Resolved")]),
        ),
    ]
    ws = _intake(tmp_path, MINUTE, issues)
    assert _q(
        ws,
        "event",
        "SELECT ticket_id, list(kind ORDER BY seq), list(strftime(ts, '%H:%M:%S') ORDER BY seq) FROM t "
        "GROUP BY 1 ORDER BY 1",
    ) == [
        ("jira:ITSM-1", ["created", "status_change", "status_change"], ["09:00:00", "10:05:10", "10:05:40"]),
        ("jira:ITSM-2", ["created", "status_change", "resolve"], ["09:00:00", "10:05:30", "10:05:30"]),
        (
            "jira:ITSM-3",
            ["created", "status_change", "reopen", "status_change"],
            ["09:00:00", "10:00:00", "12:00:00", "16:00:20"],
        ),
    ]
    # the first resolution, from the changelog (Resolved holds the last one)
    assert _q(ws, "ticket", "SELECT ticket_id, strftime(resolved_at, '%H:%M:%S') FROM t ORDER BY 1") == [
        ("jira:ITSM-1", "10:05:40"),
        ("jira:ITSM-2", "10:05:00"),
        ("jira:ITSM-3", "10:00:00"),
    ]
    assert _sign(ws, "incident.reopen_rate") == 1 / 3


def test_a_folder_yields_only_the_files_the_reader_recognises(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "export.csv").write_text(TEAMS, encoding="utf-8")
    (folder / "changelog.json").write_text(json.dumps({"issues": BOUNCES}), encoding="utf-8")
    (folder / "truth.json").write_text(json.dumps({"seed": 1, "tickets": 2, "dysfunctions": {}}), encoding="utf-8")
    (folder / "incident.csv").write_text("number,state\nINC1,New\n", encoding="utf-8")
    (folder / "ticket.parquet").write_bytes(b"PAR1")
    result = run_intake([folder], source="jira", workspace=tmp_path / "ws")
    assert sorted((Path(f.file).name, f.rows_read) for f in result.files) == [("changelog.json", 5), ("export.csv", 2)]


def test_the_bulk_changelog_is_keyed_by_issue_id(tmp_path: Path) -> None:
    csv = TEAMS.replace("Issue key,", "Issue key,Issue id,").replace("ITSM-1,", "ITSM-1,10001,")
    csv = csv.replace("ITSM-2,", "ITSM-2,10002,")
    bulk = {
        "issueChangeLogs": [
            {"issueId": "10001", "changeHistories": BOUNCES[0]["changelog"]["histories"]},  # type: ignore[index]
            {"issueId": "99999", "changeHistories": BOUNCES[1]["changelog"]["histories"]},  # type: ignore[index]
        ]
    }
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "export.csv").write_text(csv, encoding="utf-8")
    (folder / "bulk.json").write_text(json.dumps(bulk), encoding="utf-8")
    result = run_intake([folder], source="jira", workspace=tmp_path / "ws")
    by_file = {Path(f.file).name: (f.rows_read, f.rows_quarantined, f.reasons) for f in result.files}
    assert by_file == {"export.csv": (2, 0, {}), "bulk.json": (5, 1, {"missing_key": 1})}
    assert _sign(tmp_path / "ws", "incident.ping_pong_rate") == 1.0  # ITSM-2's history named no known issue


def test_a_wrong_mapping_stops_intake_naming_file_and_key(tmp_path: Path) -> None:

    from itsm_doctor.sources.base import IntakeError

    with pytest.raises(IntakeError, match=r"mapping\.yaml.*link_types\.Fixes\.relation.*not a canonical link"):
        _intake(tmp_path, TEAMS, mapping_yaml="link_types:\n  Fixes: {relation: repairs}\n")


def test_request_participants_reply_as_customers_and_status_categories_place_unknown_statuses(
    tmp_path: Path,
) -> None:
    csv = (
        "Issue key,Issue Type,Status,Status Category,Reporter,Created,Custom field (Request participants),"
        "Custom field (Request participants),Comment,Comment\n"
        "ITSM-1,Incident,Triage,In Progress,cy,05/Jan/26 9:00 AM,dee,eve,"
        "05/Jan/26 10:00 AM;eve;same here,05/Jan/26 11:00 AM;ana;looking\n"
        "ITSM-2,Incident,Fixed,Done,cy,05/Jan/26 9:00 AM,,,,\n"
        "ITSM-3,Incident,Teleported,,cy,05/Jan/26 9:00 AM,,,,\n"
    )
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "export.csv").write_text(csv, encoding="utf-8")
    result = run_intake([folder], source="jira", workspace=tmp_path / "ws")
    assert result.files[0].reasons == {"unknown_status": 1}  # no status category to fall back on
    assert _q(tmp_path / "ws", "ticket", "SELECT ticket_id, status, status_raw FROM t ORDER BY 1") == [
        ("jira:ITSM-1", "in_progress", "Triage"),
        ("jira:ITSM-2", "resolved", "Fixed"),
    ]
    assert _q(tmp_path / "ws", "event", "SELECT actor_id, kind FROM t WHERE field = 'comment' ORDER BY ts") == [
        ("jira:eve", "customer_reply"),
        ("jira:ana", "comment_public"),
    ]


def test_a_json_that_is_no_jira_changelog_is_refused_when_named(tmp_path: Path) -> None:

    from itsm_doctor.sources.base import IntakeError

    (tmp_path / "export.csv").write_text(TEAMS, encoding="utf-8")
    (tmp_path / "truth.json").write_text('{"seed": 1}', encoding="utf-8")
    with pytest.raises(IntakeError, match=r"truth\.json: not a Jira changelog"):
        run_intake([tmp_path / "export.csv", tmp_path / "truth.json"], source="jira", workspace=tmp_path / "ws")
    (tmp_path / "changelog.json").write_text(json.dumps({"issues": BOUNCES}), encoding="utf-8")
    with pytest.raises(IntakeError, match=r"changelog\.json: a Jira changelog .* give that CSV too"):
        run_intake([tmp_path / "changelog.json"], source="jira", workspace=tmp_path / "ws")


def test_the_jsm_example_export(tmp_path: Path) -> None:
    """examples/jsm: six issues, each figure checkable by hand from the two files."""
    folder = Path(__file__).parents[2] / "examples" / "jsm"
    result = run_intake(
        [folder], source="jira", workspace=tmp_path / "ws", options=SourceOptions(mapping=folder / "mapping.yaml")
    )
    assert sorted((Path(f.file).name, f.rows_read, f.rows_quarantined) for f in result.files) == [
        ("jira_changelog.json", 29, 0),
        ("jira_export.csv", 6, 0),
    ]
    figures = {
        # incidents HELP-1 (Service Desk → Network → Service Desk → Network), HELP-2, HELP-3
        "incident.reassignment_rate": 2 / 3,  # HELP-1, HELP-3 (Service Desk → Applications)
        "incident.ping_pong_rate": 1 / 3,  # HELP-1
        "incident.reopen_rate": 1 / 3,  # HELP-2: Resolved → Reopened
        "desk.first_contact_resolution": 1 / 3,  # HELP-2 stayed at the desk
        "incident.priority_downgrade_rate": 1 / 3,  # HELP-1: High → Medium
        "incident.change_induced_share": 1 / 3,  # HELP-3 is caused by the change HELP-5
        "problem.incident_link_rate": 1 / 3,  # HELP-3's problem is HELP-4
        # longest gaps to the first resolution: 23.04 h, 30 min 13 s, 2 h 43 min 30 s → median 2.725 h
        "incident.longest_silence": 2.725,
    }
    for sign_id, value in figures.items():
        assert _sign(tmp_path / "ws", sign_id) == pytest.approx(value), sign_id


def test_the_cli_passes_the_site_mapping_to_the_jira_reader(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from itsm_doctor.cli import app

    example = Path(__file__).parents[2] / "examples" / "jsm"
    mapping = tmp_path / "site.yaml"
    # this site keeps its teams in the components: HELP-1 then never left "VPN"
    mapping.write_text("group_fields: [Component/s]\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "intake",
            str(example),
            "--source",
            "jira",
            "--mapping",
            str(mapping),
            "--workspace",
            str(tmp_path / "ws"),
            "--json",
            str(tmp_path / "intake.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "Jira groups read from the field 'Component/s'" in json.loads((tmp_path / "intake.json").read_text())["notes"]
    )
    assert _sign(tmp_path / "ws", "incident.reassignment_rate") == 0.0


def test_category_configuration_item_and_sla_cells(tmp_path: Path) -> None:
    csv = (
        "Issue key,Issue Type,Status,Created,Resolved,Custom field (Request Type),Custom field (Category),"
        "Custom field (Affected hardware),Custom field (Time to resolution)\n"
        "ITSM-1,Incident,Open,05/Jan/26 9:00 AM,,Report a system problem,Network,LAPTOP-17,breached\n"
        "ITSM-2,Incident,Resolved,05/Jan/26 9:00 AM,05/Jan/26 9:30 AM,Get IT help,,,0:30\n"
        "ITSM-3,Incident,Open,05/Jan/26 9:00 AM,,,,,-2:15\n"
        "ITSM-4,Incident,Open,05/Jan/26 9:00 AM,,,,,1:30\n"
    )
    ws = _intake(tmp_path, csv)
    assert _q(ws, "ticket", "SELECT ticket_id, category, ci_id, sla_met FROM t ORDER BY 1") == [
        ("jira:ITSM-1", "Network", "jira:LAPTOP-17", False),
        ("jira:ITSM-2", "Get IT help", None, True),  # no category: the request type; resolved with time left
        ("jira:ITSM-3", None, None, False),  # time left below zero: the target passed
        ("jira:ITSM-4", None, None, None),  # time left on an open issue: no outcome yet
    ]


def test_changelog_rows_that_cannot_be_taken_in_lend_the_ticket_nothing(tmp_path: Path) -> None:
    csv = "Issue key,Issue Type,Status,Created\nA-1,Incident,Open,05/Jan/26 9:00 AM\n"
    done = [("status", "Open", "Done")]
    issues = [
        _history("A-9", ("2026-01-05T10:00:00.000+0000", "ana", done)),
        _history("A-1", ("garbage", "ana", done), ("2026-01-04T10:00:00.000+0000", "ana", done)),
    ]
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "export.csv").write_text(csv, encoding="utf-8")
    (folder / "changelog.json").write_text(json.dumps({"issues": issues}), encoding="utf-8")
    result = run_intake([folder], source="jira", workspace=tmp_path / "ws")
    log = next(f for f in result.files if f.file.endswith(".json"))
    assert (log.rows_read, log.rows_accepted, log.rows_quarantined) == (3, 0, 3)
    assert log.reasons == {"event_before_creation": 1, "unknown_ticket": 1, "unparseable_time": 1}
    # the quarantined resolution of 4 January is not A-1's resolution
    assert _q(tmp_path / "ws", "ticket", "SELECT ticket_id, status, resolved_at FROM t") == [("jira:A-1", "new", None)]


def test_resolutions_and_satisfaction_ratings(tmp_path: Path) -> None:
    csv = (
        "Issue key,Issue Type,Status,Created,Resolved,Resolution,Satisfaction rating,"
        "Custom field (Satisfaction date)\n"
        "ITSM-1,Incident,Resolved,05/Jan/26 9:00 AM,05/Jan/26 10:00 AM,Done,4,06/Jan/26 8:00 AM\n"
        "ITSM-2,Incident,Resolved,05/Jan/26 9:00 AM,05/Jan/26 10:00 AM,Won't Do,1,06/Jan/26 8:30 AM\n"
        "ITSM-3,Incident,Resolved,05/Jan/26 9:00 AM,05/Jan/26 10:00 AM,Moved elsewhere,,\n"
    )
    ws = _intake(tmp_path, csv)
    assert _q(ws, "ticket", "SELECT ticket_id, resolution_code, resolution_code_raw FROM t ORDER BY 1") == [
        ("jira:ITSM-1", "solved", "Done"),
        ("jira:ITSM-2", "rejected", "Won't Do"),
        ("jira:ITSM-3", "other", "Moved elsewhere"),
    ]
    assert _q(ws, "survey_response", "SELECT ticket_id, score, score_norm, answered_at::VARCHAR FROM t ORDER BY 1") == [
        ("jira:ITSM-1", 4.0, 0.75, "2026-01-06 08:00:00+00"),
        ("jira:ITSM-2", 1.0, 0.0, "2026-01-06 08:30:00+00"),
    ]
    assert _sign(ws, "incident.customer_satisfaction") == 0.375
    assert _sign(ws, "incident.out_of_scope_rate") == 1 / 3


def test_a_history_given_twice_counts_once(tmp_path: Path) -> None:
    """Overlapping search pages repeat an issue: its entries (same id) are exact duplicates."""
    issue = _history("ITSM-1", ("2026-01-05T10:00:00.000+0000", "ana", [("Team", "Service Desk", "Network")]))
    issue["changelog"]["histories"][0]["id"] = "5001"  # type: ignore[index]
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "export.csv").write_text(TEAMS, encoding="utf-8")
    (folder / "changelog.json").write_text(json.dumps({"issues": [issue, issue]}), encoding="utf-8")
    result = run_intake([folder], source="jira", workspace=tmp_path / "ws")
    log = next(f for f in result.files if f.file.endswith(".json"))
    assert (log.rows_read, log.rows_quarantined, log.reasons) == (2, 1, {"exact_duplicate": 1})
    assert _q(tmp_path / "ws", "event", "SELECT count(*) FROM t WHERE kind = 'group_change'") == [(1,)]


def _same_records(result: IntakeResult, reference: IntakeResult) -> None:
    """BOUNCES's intake (five changelog items over two issues, the CSV's two rows) read another
    way: the same rows read, records and events as ``reference``."""
    assert sorted((Path(f.file).name, f.rows_read) for f in reference.files) == [
        ("changelog.json", 5),
        ("export.csv", 2),
    ]
    assert result.records == reference.records
    events = "SELECT ticket_id, seq, kind, ts, to_status, to_group_id, actor_id FROM t ORDER BY 1, 2"
    assert _q(result.workspace, "event", events) == _q(reference.workspace, "event", events)


@pytest.mark.parametrize(
    ("shape", "chunk"), [("issues", None), ("list", None), ("bulk", None), ("issues", 1), ("bulk", 7)]
)
def test_a_large_changelog_is_streamed_to_the_same_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str, chunk: int | None
) -> None:
    """Past STREAM_BYTES the changelog is read one issue at a time: the same rows and records as
    parsed whole, in each shape. Here every file counts as large; read 1 or 7 characters at a
    time, every key, string and number is cut by a chunk's end somewhere."""
    from itsm_doctor.sources import jira_changelog

    if chunk:
        monkeypatch.setattr(jira_changelog, "_CHUNK", chunk)
    monkeypatch.setattr(jira_changelog, "_on_engine", _engine_refuses)  # the one-issue-at-a-time reader

    csv = TEAMS.replace("Issue key,", "Issue key,Issue id,").replace("ITSM-1,", "ITSM-1,10001,")
    csv = csv.replace("ITSM-2,", "ITSM-2,10002,")
    histories = [b["changelog"]["histories"] for b in BOUNCES]  # type: ignore[index]
    data: object = {
        "issues": {"issues": BOUNCES},
        "list": BOUNCES,
        "bulk": {
            "issueChangeLogs": [
                {"issueId": i, "changeHistories": h} for i, h in zip(("10001", "10002"), histories, strict=True)
            ]
        },
    }[shape]
    for name in ("whole", "streamed"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "export.csv").write_text(csv, encoding="utf-8")
        (tmp_path / name / "changelog.json").write_text(json.dumps(data), encoding="utf-8")
    whole = run_intake([tmp_path / "whole"], source="jira", workspace=tmp_path / "ws-whole")
    monkeypatch.setattr(jira_changelog, "STREAM_BYTES", 0)
    streamed = run_intake([tmp_path / "streamed"], source="jira", workspace=tmp_path / "ws-streamed")
    # BOUNCES: five changelog items over two issues, all read, none quarantined
    assert [(Path(f.file).name, f.rows_read, f.rows_quarantined) for f in streamed.files] == [
        (Path(f.file).name, f.rows_read, f.rows_quarantined) for f in whole.files
    ]
    _same_records(streamed, whole)


def _engine_refuses(*_args: object) -> None:
    from itsm_doctor.sources.xes_parse import Malformed

    raise Malformed


# values of every JSON type where the reader expects text, comments in both API versions, authors
# named by account id, by name or neither, a history under "values", issues with nothing to read
_ODD_ISSUES: list[dict[str, object]] = [
    {
        "key": "ITSM-1",
        "id": 10001,
        "fields": {
            "summary": "Zoë ☃",
            "comment": {
                "comments": [
                    {
                        "id": 7,
                        "created": "2026-01-05T10:00:00.000+0000",
                        "author": {"accountId": "", "name": "ana"},
                        "body": 'plain "text"\n',
                        "jsdPublic": False,
                    },
                    {
                        "id": "8",
                        "created": "2026-01-05T11:00:00.000+0000",
                        "author": {"displayName": "Bo", "accountId": 0},
                        "body": {
                            "type": "doc",
                            "content": [
                                {"type": "paragraph", "content": [{"type": "text", "text": "Zoë"}]},
                                {"type": "paragraph", "content": [{"text": "two"}]},
                            ],
                        },
                        "jsdPublic": True,
                    },
                    {"created": None, "author": None, "body": None, "jsdPublic": 1},
                    {"body": 5, "jsdPublic": ""},
                ]
            },
        },
        "changelog": {
            "histories": [
                {
                    "id": 2,
                    "created": "2026-01-05T10:00:00.000+0000",
                    "author": {"displayName": "Ana", "accountId": "a-1"},
                    "items": [
                        {"field": "status", "fromString": "Open", "toString": "In Progress", "from": 1, "to": 3},
                        {"field": "flag", "fromString": True, "toString": {"a": [1, 2.5, "é"]}, "to": None},
                    ],
                },
                {
                    "id": "3",
                    "created": "2026-01-05T12:00:00.000+0000",
                    "author": {"accountId": False, "name": 12},
                    "items": [],
                },
                {"id": "4", "author": {}, "items": [{"field": "Team", "from": 1.5, "to": 100000.0}]},
            ]
        },
    },
    {
        "key": "ITSM-2",
        "id": "10002",
        "changelog": {
            "histories": [],
            "values": [
                {
                    "id": "9",
                    "created": "2026-01-06T09:00:00.000+0000",
                    "items": [{"field": "assignee", "toString": "bo"}],
                }
            ],
        },
    },
    {"key": "ITSM-3", "changelog": None, "fields": None},
    {"key": "ITSM-4", "id": "10004", "fields": {"comment": {"comments": [{"id": "1", "body": "only a comment"}]}}},
]


@pytest.mark.parametrize(("shape", "gz"), [("issues", False), ("list", False), ("bulk", False), ("issues", True)])
def test_duckdb_reads_a_changelog_into_the_rows_of_the_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str, gz: bool
) -> None:
    """The large changelog read by DuckDB (in runs of one issue each; a gzip'd one from its
    decompressed copy) and read one issue at a time by Python: the same text rows, cell for cell and
    numbered alike, however odd the values."""
    from itsm_doctor.sources import jira_changelog
    from itsm_doctor.sources.base import IntakeSession

    data: object = {
        "issues": {"startAt": 0, "issues": _ODD_ISSUES},
        "list": _ODD_ISSUES,
        "bulk": {
            "issueChangeLogs": [
                {"issueId": i.get("id"), "changeHistories": (i.get("changelog") or {}).get("histories")}  # type: ignore[union-attr]
                for i in _ODD_ISSUES
            ]
        },
    }[shape]
    text = json.dumps(data, ensure_ascii=False).encode("utf-8")
    path = tmp_path / ("changelog.json.gz" if gz else "changelog.json")
    path.write_bytes(gzip.compress(text) if gz else text)
    monkeypatch.setattr(jira_changelog, "STREAM_BYTES", 0)
    monkeypatch.setattr(jira_changelog, "CHUNK_BYTES", 1)  # a cut after every issue
    ran: list[str] = []
    on_engine, one_pass = jira_changelog._on_engine, jira_changelog._streamed
    monkeypatch.setattr(jira_changelog, "_on_engine", lambda *a: ran.append("engine") or on_engine(*a))
    monkeypatch.setattr(jira_changelog, "_streamed", lambda *a: ran.append("one pass") or one_pass(*a))

    def rows(session: IntakeSession) -> list[tuple[object, ...]]:
        raw = jira_changelog.load_changelog(session, path, source="jira")
        return session.con.execute(f"SELECT * EXCLUDE (_q, _qcol, _qdetail) FROM {raw.name} ORDER BY _row").fetchall()

    engine = rows(IntakeSession(con=duckdb.connect(), scratch=tmp_path))
    assert ran == ["engine"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # the copies are removed
    monkeypatch.setattr(jira_changelog, "_on_engine", _engine_refuses)
    reference = rows(IntakeSession(con=duckdb.connect(), scratch=tmp_path))
    assert engine == reference
    if shape == "bulk":  # the bulk changelog holds histories only
        assert [r[0] for r in reference] == [1, 2, 3]  # ITSM-1's three items (ITSM-2's are under "values")
        return
    assert [r[:3] for r in reference] == [
        (1, "history", "ITSM-1"),
        (2, "history", "ITSM-1"),
        (3, "history", "ITSM-1"),
        (4, "comment", "ITSM-1"),
        (5, "comment", "ITSM-1"),
        (6, "comment", "ITSM-1"),
        (7, "comment", "ITSM-1"),
        (8, "history", "ITSM-2"),
        (9, "comment", "ITSM-4"),
    ]
    by_row = {r[0]: r for r in reference}
    # columns: _row, record, key, id, created, author, author id, field, from, from s, to, to s, public, body, id
    assert by_row[2][7:12] == ("flag", None, "true", None, '{"a":[1,2.5,"é"]}')
    assert by_row[3][3:12] == ("10001", None, None, None, "Team", "1.5", None, "100000.0", None)
    assert by_row[4][5:7] + by_row[4][12:] == (None, "ana", "false", 'plain "text"\n', "7")
    assert by_row[5][5:7] + by_row[5][12:] == ("Bo", None, "true", "Zoë\ntwo", "8")
    assert by_row[6][12:14] == ("true", None) and by_row[7][12:14] == ("false", None)
    assert by_row[8][2:8] == ("ITSM-2", "10002", "2026-01-06T09:00:00.000+0000", None, None, "assignee")


@pytest.mark.parametrize("where", ["history", "item", "comment"])
def test_a_null_element_is_left_to_the_reference_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """DuckDB reads a null history, item or comment as a row of nothing; the reference reader refuses
    the file. DuckDB's reading gives way, so a large file is refused as a small one is."""
    from itsm_doctor.sources import jira_changelog
    from itsm_doctor.sources.base import IntakeError

    issues = json.loads(json.dumps(BOUNCES))
    if where == "history":
        issues[1]["changelog"]["histories"].append(None)
    elif where == "item":
        issues[1]["changelog"]["histories"][0]["items"].append(None)
    else:
        issues[1]["fields"] = {"comment": {"comments": [None]}}
    (tmp_path / "export.csv").write_text(TEAMS, encoding="utf-8")
    (tmp_path / "changelog.json").write_text(json.dumps({"issues": issues}), encoding="utf-8")
    monkeypatch.setattr(jira_changelog, "STREAM_BYTES", 0)
    ran: list[str] = []
    on_engine, one_pass = jira_changelog._on_engine, jira_changelog._streamed
    monkeypatch.setattr(jira_changelog, "_on_engine", lambda *a: ran.append("engine") or on_engine(*a))
    monkeypatch.setattr(jira_changelog, "_streamed", lambda *a: ran.append("one pass") or one_pass(*a))
    with pytest.raises(IntakeError, match=r"changelog\.json: the file's structure is not a jira export"):
        run_intake([tmp_path], source="jira", workspace=tmp_path / "ws")
    assert ran == ["engine", "one pass"]


def test_no_room_for_duckdbs_copy_reads_the_changelog_one_issue_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB reads copies of the changelog's runs; where they cannot be written (here: the stage's
    folder is gone), the file is read one issue at a time instead, to the same rows."""
    from itsm_doctor.sources import jira_changelog
    from itsm_doctor.sources.base import IntakeSession

    path = tmp_path / "changelog.json"
    path.write_text(json.dumps({"issues": BOUNCES}), encoding="utf-8")
    monkeypatch.setattr(jira_changelog, "STREAM_BYTES", 0)
    ran: list[str] = []
    one_pass = jira_changelog._streamed
    monkeypatch.setattr(jira_changelog, "_streamed", lambda *a: ran.append("one pass") or one_pass(*a))

    def rows(scratch: Path) -> list[tuple[object, ...]]:
        session = IntakeSession(con=duckdb.connect(), scratch=scratch)
        raw = jira_changelog.load_changelog(session, path, source="jira")
        return session.con.execute(f"SELECT _row, c0, c1, c6, c10 FROM {raw.name} ORDER BY _row").fetchall()

    assert rows(tmp_path) == rows(tmp_path / "gone")
    assert ran == ["one pass"]
    assert len(rows(tmp_path)) == 5  # BOUNCES: five items over two issues
    assert list((tmp_path).glob("jira-changelog-*")) == []  # the copies are removed


def test_a_large_json_that_is_no_changelog_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from itsm_doctor.sources import jira_changelog
    from itsm_doctor.sources.base import IntakeError

    monkeypatch.setattr(jira_changelog, "STREAM_BYTES", 0)
    (tmp_path / "export.csv").write_text(TEAMS, encoding="utf-8")
    (tmp_path / "list.json").write_text('[{"key": "ITSM-1", "changelog": {"histories": []}}, 2]', encoding="utf-8")
    with pytest.raises(IntakeError, match=r"list\.json: not a Jira changelog: expected"):
        run_intake([tmp_path / "export.csv", tmp_path / "list.json"], source="jira", workspace=tmp_path / "ws")
    (tmp_path / "list.json").write_text('{"issues": [{"key": "ITSM-1", "changelog": {"histories": [}', encoding="utf-8")
    with pytest.raises(IntakeError, match=r"list\.json: not a Jira changelog JSON"):
        run_intake([tmp_path / "export.csv", tmp_path / "list.json"], source="jira", workspace=tmp_path / "ws")
    # cut short, or with more text after the document
    for text in ('{"issues": [{"key": "ITSM-1", "changelog": {"histories": []}}', '[{"key": "ITSM-1"}] [2]'):
        (tmp_path / "list.json").write_text(text, encoding="utf-8")
        with pytest.raises(IntakeError, match=r"list\.json: not a Jira changelog JSON"):
            run_intake([tmp_path / "export.csv", tmp_path / "list.json"], source="jira", workspace=tmp_path / "ws")


@pytest.mark.parametrize(
    ("shape", "nested"), [("issues", False), ("list", False), ("bulk", False), ("issues", True), ("list", True)]
)
def test_a_large_changelog_in_chunks_gives_the_records_of_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str, nested: bool
) -> None:
    """A large plain changelog is cut between its issues and parsed by two worker processes: the
    same rows and records as read one issue at a time. A cut that falls inside an issue (the bytes
    that open an issue, nested in a sub-task list) makes its chunk fail, and the file is read one
    issue at a time instead — never a row lost or made up."""
    from itsm_doctor.sources import jira_changelog

    csv = TEAMS.replace("Issue key,", "Issue key,Issue id,").replace("ITSM-1,", "ITSM-1,10001,")
    csv = csv.replace("ITSM-2,", "ITSM-2,10002,")
    issues = json.loads(json.dumps(BOUNCES))
    issues[0]["fields"] = {"summary": "Zoë's ☃ printer"}  # characters of several bytes before a cut
    if nested:  # ', {"key":' inside ITSM-2 as well as between the issues
        issues[1]["fields"] = {"subtasks": [{"key": "ITSM-7"}, {"key": "ITSM-8"}]}
    data: object = {
        "issues": {"expand": "names ☃", "startAt": 0, "issues": issues},
        "list": issues,
        "bulk": {
            "issueChangeLogs": [
                {"issueId": i, "changeHistories": b["changelog"]["histories"]}
                for i, b in zip(("10001", "10002"), issues, strict=True)
            ]
        },
    }[shape]
    for name in ("streamed", "chunks"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "export.csv").write_text(csv, encoding="utf-8")
        (tmp_path / name / "changelog.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(jira_changelog, "STREAM_BYTES", 0)
    streamed = run_intake([tmp_path / "streamed"], source="jira", workspace=tmp_path / "ws-streamed")

    ran: list[str] = []
    one_pass, in_chunks = jira_changelog._streamed, jira_changelog._on_engine
    monkeypatch.setattr(jira_changelog, "_streamed", lambda *a: ran.append("one pass") or one_pass(*a))
    monkeypatch.setattr(jira_changelog, "_on_engine", lambda *a: ran.append("chunks") or in_chunks(*a))
    monkeypatch.setattr(jira_changelog, "CHUNK_BYTES", 1)  # a cut after every issue
    chunks = run_intake([tmp_path / "chunks"], source="jira", workspace=tmp_path / "ws-chunks")

    assert ran == (["chunks", "one pass"] if nested else ["chunks"])
    assert sorted((Path(f.file).name, f.rows_read, f.rows_quarantined) for f in chunks.files) == [
        ("changelog.json", 5, 0),
        ("export.csv", 2, 0),
    ]
    _same_records(chunks, streamed)


def test_a_changelog_in_two_files_gives_the_events_of_one(tmp_path: Path) -> None:
    """Search results exported page by page: ITSM-1's first two histories in one file, its last two
    and ITSM-2 in another. Each file numbers its rows from 1, so a row number alone names no item:
    the events are those of the single file, each once."""
    ws_one = _intake(tmp_path / "one", TEAMS, BOUNCES)
    first, second = json.loads(json.dumps(BOUNCES[0])), json.loads(json.dumps(BOUNCES[0]))
    first["changelog"]["histories"] = first["changelog"]["histories"][:2]
    second["changelog"]["histories"] = second["changelog"]["histories"][2:]
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "export.csv").write_text(TEAMS, encoding="utf-8")
    (folder / "page1.json").write_text(json.dumps({"issues": [first]}), encoding="utf-8")
    (folder / "page2.json").write_text(json.dumps({"issues": [second, BOUNCES[1]]}), encoding="utf-8")
    result = run_intake([folder], source="jira", workspace=tmp_path / "ws-pages")
    assert sorted((Path(f.file).name, f.rows_read, f.rows_quarantined) for f in result.files) == [
        ("export.csv", 2, 0),
        ("page1.json", 2, 0),
        ("page2.json", 3, 0),
    ]
    events = "SELECT ticket_id, seq, kind, ts, to_status, to_group_id, actor_id, raw FROM t ORDER BY 1, 2"
    assert _q(tmp_path / "ws-pages", "event", events) == _q(ws_one, "event", events)
    assert len(_q(ws_one, "event", events)) == 2 + 5  # a created event per issue, an event per item


def test_every_file_read_is_announced(tmp_path: Path) -> None:
    """The progress names each file as its reading starts, the changelog as well as the CSV."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "export.csv").write_text(TEAMS, encoding="utf-8")
    (folder / "changelog.json").write_text(json.dumps({"issues": BOUNCES}), encoding="utf-8")
    said: list[str] = []
    run_intake([folder], source="jira", workspace=tmp_path / "ws", progress=said.append)
    assert [m for m in said if m.startswith("reading ")] == ["reading export.csv", "reading changelog.json"]
