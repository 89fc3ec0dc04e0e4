"""`itsm-doctor demo` end to end on a small patient: two visits, a prescription adopted between
them, and a follow-up that sees it heal (the same path `make demo` takes with 20,000 tickets)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.store import Store


def test_demo_runs_two_visits_and_judges_the_adopted_prescription(tmp_path: Path) -> None:
    ws = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--tickets", "3000", "--workspace", str(ws), "-q"])
    assert result.exit_code == 0, result.output
    assert "Report:" in result.output and "Adopted Publish an assignment matrix" in result.output

    truth = json.loads((ws / "truth.json").read_text())
    assert truth["dysfunctions"] == {
        "assignment-ping-pong": 0.8,
        "wait-user-abuse": 0.7,
        "problem-management-absent": 0.9,
    }
    store = Store.open(workspace=ws)
    visits = store.visits(patient=store.patient(slug="demo"))
    assert len(visits) == 2
    first = {d["id"]: d["verdict"] for d in visits[0].examination["diagnoses"]}
    assert {first[k] for k in truth["dysfunctions"]} == {"present"}
    assert [e.prescription_id for e in store.register(patient=store.patient(slug="demo"))] == ["assignment-matrix"]

    followup = json.loads((ws / "followup.json").read_text())
    ping = next(e for e in followup["effects"] if e["sign"] == "incident.ping_pong_rate")
    assert ping["since"] == "2026-07-01" and ping["verdict"] == "healing" and ping["p_value"] < 0.05
    assert ping["after"] < ping["before"] / 4
    # the reasoning: cohorts cut (the last weeks' tickets too young), the trend, no control
    # (a department remedy), the family corrected
    assert ping["test"] == "interrupted time series (weekly segmented regression)"
    assert ping["cohorts"]["too_young"] > 0 and ping["cohorts"]["judged_after"] > 100
    assert ping["p_adjusted"] < 0.05 and ping["interval"][1] < 0
    assert ping["confidence"] == "moderate" and any("no control" in r for r in ping["reasons"])
    assert followup["correction"]["method"] == "Holm" and followup["correction"]["tests"] >= 2
    [chart] = [c for c in followup["control_charts"] if c["sign"] == "incident.ping_pong_rate"]
    assert chart["adoptions"][0]["label"] == "2026-07" and chart["chart"]["baseline"] == 6
    html = (ws / "report.html").read_text()
    assert '<section id="followup">' in html
    assert "cohorts cut to equal observation" in html and "adopted 2026-07-01" in html
    assert (ws / "visit-1" / "report.html").exists() and (ws / "visit-2" / "records" / "event").is_dir()
