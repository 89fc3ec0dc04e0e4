from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.store import Store


def _examination(at: str, ping_pong: float) -> dict[str, object]:
    return {
        "schema": "itsm-doctor/examination/1",
        "patient": "patient",
        "visit": {"id": at, "at": at},
        "signs": [
            {
                "id": "incident.ping_pong_rate",
                "name": "Ping-pong rate",
                "area": "quality",
                "unit": "ratio",
                "direction": "lower",
                "value": ping_pong,
                "status": "poor",
                "breakdowns": {},
            }
        ],
        "diagnoses": [],
        "prescriptions": [],
        "intake": [],
    }


def test_followup_without_visits_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["followup", "--workspace", str(tmp_path)])
    assert result.exit_code == 2
    assert "holds no patient yet" in result.output and "itsm-doctor examine" in result.output
    assert not (tmp_path / "itsm-doctor.db").exists()  # a read-only command creates no store
    Store.open(workspace=tmp_path).patient(slug="patient")
    result = CliRunner().invoke(app, ["followup", "--workspace", str(tmp_path)])
    assert result.exit_code == 2
    assert "no visit yet" in result.output


def test_followup_shows_trends_and_writes_report_and_json(tmp_path: Path) -> None:
    store = Store.open(workspace=tmp_path)
    patient = store.patient(slug="patient")
    store.record_visit(
        patient=patient,
        examination=_examination("2026-01-31", 0.20),
        fingerprints=[],
        at=datetime(2026, 1, 31, tzinfo=UTC),
    )
    store.record_visit(
        patient=patient,
        examination=_examination("2026-04-30", 0.05),
        fingerprints=[],
        at=datetime(2026, 4, 30, tzinfo=UTC),
    )
    store.adopt(
        patient=patient,
        prescription_id="assignment-matrix",
        dysfunction_id="assignment-ping-pong",
        title="Assignment matrix",
        owner="incident manager",
        sphere="department",
        target_signs=[{"id": "incident.ping_pong_rate", "direction": "down"}],
        adopted_on=date(2026, 2, 1),
    )
    report, js = tmp_path / "report.html", tmp_path / "followup.json"
    result = CliRunner().invoke(
        app, ["followup", "--workspace", str(tmp_path), "--report", str(report), "--json", str(js)]
    )
    assert result.exit_code == 0, result.output
    assert "incident.ping_pong_rate" in result.output and "20.0%" in result.output and "5.0%" in result.output
    assert "-15.0 pts" in result.output  # a share's change in points, not a relative −15 %
    data = json.loads(js.read_text())
    [trend] = data["trends"]
    assert trend["values"] == [0.20, 0.05]
    [effect] = data["effects"]
    assert effect["prescription"] == "assignment-matrix" and effect["verdict"] == "no_effect_yet"
    html = report.read_text()
    assert '<section id="followup">' in html and "Assignment matrix" in html
