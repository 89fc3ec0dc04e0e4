from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.store import Store

EXAMINATION = {
    "schema": "itsm-doctor/examination/1",
    "signs": [
        {"id": "incident.ping_pong_rate", "direction": "lower"},
        {"id": "desk.first_contact_resolution", "direction": "higher"},
    ],
    "prescriptions": [
        {
            "id": "assignment-matrix",
            "dysfunction": "assignment-ping-pong",
            "cause": "no-assignment-rules",
            "title": "Assignment matrix by service",
            "practice": "incident management",
            "sphere": "department",
            "effort": "medium",
            "moves": ["incident.ping_pong_rate", "desk.first_contact_resolution"],
            "follow_up_days": 60,
        }
    ],
}


def test_adopt_list_and_close_a_prescription(tmp_path: Path) -> None:
    store = Store.open(workspace=tmp_path)
    visit = store.record_visit(patient=store.patient(slug="patient"), examination=EXAMINATION, fingerprints=[])
    runner = CliRunner()
    ws = ["--workspace", str(tmp_path)]
    adopted = runner.invoke(
        app, ["register", "adopt", "assignment-matrix", "--owner", "incident manager", "--since", "2026-03-01", *ws]
    )
    assert adopted.exit_code == 0, adopted.output
    [entry] = store.register(patient=store.patient(slug="patient"))
    assert entry.visit_id == visit.id and entry.adopted_on == date(2026, 3, 1)
    assert entry.target_signs == [
        {"id": "incident.ping_pong_rate", "direction": "down"},
        {"id": "desk.first_contact_resolution", "direction": "up"},
    ]
    listed = runner.invoke(app, ["register", "list", *ws])
    assert "Assignment" in listed.output and "adopted" in listed.output and "2026-03-01" in listed.output
    done = runner.invoke(app, ["register", "status", str(entry.id), "done", "--on", "2026-05-01", *ws])
    assert done.exit_code == 0, done.output
    [entry] = store.register(patient=store.patient(slug="patient"))
    assert (entry.status, entry.completed_on) == ("done", date(2026, 5, 1))


def test_adopting_an_unknown_prescription_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["register", "adopt", "astrology", "--owner", "x", "--workspace", str(tmp_path)])
    assert result.exit_code == 2 and "no visit" in result.output
    bad = CliRunner().invoke(app, ["register", "status", "1", "forgotten", "--workspace", str(tmp_path)])
    assert bad.exit_code == 2 and "unknown register status" in bad.output


def test_a_team_remedy_is_adopted_with_its_groups(tmp_path: Path) -> None:
    store = Store.open(workspace=tmp_path)
    store.record_visit(patient=store.patient(slug="patient"), examination=EXAMINATION, fingerprints=[])
    result = CliRunner().invoke(
        app,
        [
            "register",
            "adopt",
            "assignment-matrix",
            "--owner",
            "team lead",
            "--since",
            "2026-03-01",
            "--group",
            "G-SD",
            "--group",
            "G-NET",
            "--workspace",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    [entry] = Store.open(workspace=tmp_path).register(patient=store.patient(slug="patient"))
    assert entry.groups == ["G-SD", "G-NET"]
