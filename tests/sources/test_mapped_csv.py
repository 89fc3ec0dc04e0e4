from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from itsm_doctor.intake.run import run_intake
from itsm_doctor.sources.base import IntakeError, SourceOptions

ROOT = Path(__file__).parents[2]


def _q(ws: Path, table: str, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{ws}/records/{table}/*.parquet')")
    return con.execute(sql).fetchall()


@pytest.mark.realdata
def test_helpdesk_csv_through_the_example_mapping(data: Path, workspace: Path) -> None:
    result = run_intake(
        [data / "helpdesk" / "Helpdesk.csv.gz"],
        source="csv",
        workspace=workspace,
        options=SourceOptions(mapping=ROOT / "examples" / "mappings" / "helpdesk.yaml"),
    )
    [f] = result.files
    assert (f.rows_read, f.rows_accepted, f.rows_quarantined) == (21_348, 21_221, 127)
    assert f.reasons == {"exact_duplicate": 127}
    assert result.records["ticket"] == 4_580
    # Case3608 by hand: its first two events (times carry +02:00)
    assert _q(
        workspace,
        "event",
        "SELECT ts::VARCHAR, activity, to_status FROM t WHERE ticket_id = 'helpdesk:Case3608' ORDER BY seq LIMIT 2",
    ) == [
        ("2010-01-13 06:40:25+00", "Assign seriousness", "new"),
        ("2010-01-29 06:52:27+00", "Take in charge ticket", "in_progress"),
    ]


PRESET_FILES = {
    "glpi": (
        "tickets.csv",
        "ID;Titre;Statut;Type;Priorité;Urgence;Demandeur - Demandeur;Date d'ouverture;Attribué à - Technicien;"
        "Attribué à - Groupe de techniciens;Catégorie\n"
        "101;Imprimante;En attente;Incident;Haute;Moyenne;Ana;05-01-2026 08:30;Bo;Support > N1;Matériel\n"
        "102;Nouveau PC;Clos;Demande;Basse;Basse;Cy;06-01-2026 09:00;Bo;Support > N1;Poste\n",
    ),
    "itop": (
        "export.csv",
        "ref,finalclass,title,status,priority,urgency,impact,origin,service_id_friendlyname,team_id_friendlyname,"
        "agent_id_friendlyname,caller_id_friendlyname,start_date,resolution_date,close_date,resolution_code\n"
        "I-000101,Incident,Mail down,resolved,1,1,2,mail,Mail,Messaging,Ana,Bo,2026-01-05 08:30:00,"
        "2026-01-05 10:30:00,,other\n"
        "R-000102,UserRequest,New PC,waiting_for_approval,4,4,3,portal,Workplace,Desk,,Cy,2026-01-06 09:00:00,,,\n",
    ),
    "znuny": (
        "tickets.csv",
        "Ticket#;Title;State;Priority;Queue;Owner;Customer User;Service;Type;Created;Closed\n"
        "2026010510000011;VPN;pending reminder;5 very high;Network;ana;bo;VPN;Incident;2026-01-05 08:30:00;\n"
        "2026010610000022;Laptop;closed successful;3 normal;Desk;cy;dee;Workplace;Service Request;"
        "2026-01-06 09:00:00;2026-01-07 10:00:00\n",
    ),
    "zammad": (
        "tickets.csv",
        "number,title,state,priority,group,owner,customer,created_at,first_response_at,close_at\n"
        "31001,Mail,open,3 high,Users,ana,bo,2026-01-05 08:30:00,2026-01-05 08:45:00,\n"
        "31002,Printer,pending close,1 low,Users,ana,cy,2026-01-06 09:00:00,,\n",
    ),
}
EXPECTED = {
    "glpi": [
        ("glpi:101", "incident", "pending", "unknown", 2, "glpi:Support > N1"),
        ("glpi:102", "request", "closed", None, 4, "glpi:Support > N1"),
    ],
    "itop": [
        ("itop:I-000101", "incident", "resolved", None, 1, "itop:Messaging"),
        ("itop:R-000102", "request", "pending", "awaiting_approval", 4, "itop:Desk"),
    ],
    "znuny": [
        ("znuny:2026010510000011", "incident", "pending", "awaiting_user", 1, "znuny:Network"),
        ("znuny:2026010610000022", "request", "closed", None, 3, "znuny:Desk"),
    ],
    "zammad": [
        ("zammad:31001", "incident", "in_progress", None, 2, "zammad:Users"),
        ("zammad:31002", "incident", "pending", "awaiting_user", 4, "zammad:Users"),
    ],
}


@pytest.mark.parametrize("preset", sorted(PRESET_FILES))
def test_presets_read_their_tools_exports(preset: str, tmp_path: Path) -> None:
    name, text = PRESET_FILES[preset]
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = run_intake([tmp_path / name], source=preset, workspace=tmp_path / "ws")
    assert result.files[0].rows_read == 2 and result.files[0].rows_quarantined == 0
    got = _q(
        tmp_path / "ws",
        "ticket",
        "SELECT ticket_id, ticket_type, status, pending_reason, priority, assigned_group_id FROM t ORDER BY ticket_id",
    )
    assert got == EXPECTED[preset]


def test_unknown_status_is_quarantined_and_mapping_errors_name_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(
        "Id,State,Opened\n1,open,2026-01-05 08:00\n2,on fire,2026-01-05 09:00\n3,open,sometime\n", encoding="utf-8"
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {ticket_id: Id, status: State, opened_at: Opened}\nstatus_map: {open: in_progress}\n",
        encoding="utf-8",
    )
    result = run_intake(
        [tmp_path / "t.csv"], source="csv", workspace=tmp_path / "ws", options=SourceOptions(mapping=mapping)
    )
    [f] = result.files
    assert (f.rows_read, f.rows_accepted) == (3, 1)
    assert f.reasons == {"unknown_status": 1, "unparseable_time": 1}
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: {ticket_id: Id}\nstatus_map: {open: ongoing}\n", encoding="utf-8")
    with pytest.raises(IntakeError, match=r"bad.yaml: mapping key status_map: .*'ongoing', not a canonical status"):
        run_intake([tmp_path / "t.csv"], source="csv", workspace=tmp_path / "ws2", options=SourceOptions(mapping=bad))
    with pytest.raises(IntakeError, match="--source csv needs --mapping"):
        run_intake([tmp_path / "t.csv"], source="csv", workspace=tmp_path / "ws3")


def test_event_log_without_words_reads_the_lifecycle_vocabulary_and_closure_codes(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text(
        "case,activity,at\nA,Open,2026-01-05 08:00\nA,Check,2026-01-05 09:00\nA,Resolved,2026-01-05 10:00\n"
        "A,Closed,2026-01-06 10:00\nB,Open,2026-01-05 08:00\nB,Cancelled,2026-01-05 08:30\n",
        encoding="utf-8",
    )
    events = tmp_path / "events.yaml"
    events.write_text("layout: events\ncolumns: {ticket_id: case, activity: activity, ts: at}\n", encoding="utf-8")
    result = run_intake(
        [tmp_path / "events.csv"], source="csv", workspace=tmp_path / "ws", options=SourceOptions(mapping=events)
    )
    assert _q(tmp_path / "ws", "event", "SELECT ticket_id, activity, kind, to_status FROM t ORDER BY ALL") == [
        ("csv:A", "Check", "activity", None),
        ("csv:A", "Closed", "status_change", "closed"),
        ("csv:A", "Open", "status_change", "new"),
        ("csv:A", "Resolved", "status_change", "resolved"),
        ("csv:B", "Cancelled", "status_change", "cancelled"),
        ("csv:B", "Open", "status_change", "new"),
    ]
    assert any("through the lifecycle vocabulary" in n and "'resolved' → resolved" in n for n in result.notes)

    (tmp_path / "tickets.csv").write_text(
        "Id,Opened,Code\n1,2026-01-05 08:00,No error - works as designed\n2,2026-01-05 09:00,Referred\n"
        "3,2026-01-05 09:00,Software\n4,2026-01-05 09:00,code 6\n",
        encoding="utf-8",
    )
    tickets = tmp_path / "tickets.yaml"
    tickets.write_text("columns: {ticket_id: Id, opened_at: Opened, resolution_code: Code}\n", encoding="utf-8")
    run_intake(
        [tmp_path / "tickets.csv"], source="csv", workspace=tmp_path / "ws2", options=SourceOptions(mapping=tickets)
    )
    assert _q(tmp_path / "ws2", "ticket", "SELECT source_key, resolution_code FROM t ORDER BY 1") == [
        ("1", "no_fault"),
        ("2", "rejected"),
        ("3", "solved"),
        ("4", "other"),
    ]


def test_a_preset_column_missing_from_the_export_is_a_field_not_exported(tmp_path: Path) -> None:
    # a Zammad export without first_response_at nor priority, an iTop one without origin nor
    # resolution_code: read, those fields empty and named in a note; a user's mapping naming a
    # column the export lacks still stops intake, naming it
    (tmp_path / "zammad.csv").write_text(
        "number,title,state,group,owner,customer,created_at,close_at\n"
        "31001,Mail,open,Users,ana,bo,2026-01-05 08:30:00,\n"
        "31002,Printer,closed,Users,ana,cy,2026-01-06 09:00:00,2026-01-06 11:00:00\n",
        encoding="utf-8",
    )
    result = run_intake([tmp_path / "zammad.csv"], source="zammad", workspace=tmp_path / "ws")
    [f] = result.files
    assert (f.rows_read, f.rows_accepted, f.rows_quarantined) == (2, 2, 0)
    assert any(
        "2 column(s) of the zammad mapping not in the export" in n
        and "priority ('priority')" in n
        and "first_response_at ('first_response_at')" in n
        for n in f.notes
    )
    assert _q(
        tmp_path / "ws",
        "ticket",
        "SELECT ticket_id, status, priority, first_response_at, closed_at::VARCHAR FROM t ORDER BY 1",
    ) == [
        ("zammad:31001", "in_progress", None, None, None),
        ("zammad:31002", "closed", None, None, "2026-01-06 11:00:00+00"),
    ]
    # created, then close for 31002: two derived events, one for 31001
    assert _q(tmp_path / "ws", "event", "SELECT ticket_id, seq, kind FROM t ORDER BY 1, 2") == [
        ("zammad:31001", 1, "created"),
        ("zammad:31002", 1, "created"),
        ("zammad:31002", 2, "close"),
    ]

    (tmp_path / "itop.csv").write_text(
        "ref,finalclass,title,status,priority,urgency,impact,service_id_friendlyname,team_id_friendlyname,"
        "agent_id_friendlyname,caller_id_friendlyname,start_date,resolution_date,close_date\n"
        "I-1,Incident,Mail down,resolved,1,1,2,Mail,Messaging,Ana,Bo,2026-01-05 08:30:00,2026-01-05 10:30:00,\n",
        encoding="utf-8",
    )
    result = run_intake([tmp_path / "itop.csv"], source="itop", workspace=tmp_path / "ws2")
    assert result.files[0].rows_accepted == 1
    assert _q(tmp_path / "ws2", "ticket", "SELECT ticket_id, status, channel, resolution_code, priority FROM t") == [
        ("itop:I-1", "resolved", None, None, 1)
    ]

    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns: {ticket_id: number, opened_at: created_at, priority: Priority}\n", encoding="utf-8")
    with pytest.raises(IntakeError, match=r"zammad.csv.*column 'Priority'"):
        run_intake(
            [tmp_path / "zammad.csv"], source="csv", workspace=tmp_path / "ws3", options=SourceOptions(mapping=mapping)
        )
