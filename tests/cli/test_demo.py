"""`itsm-doctor demo` end to end on a small patient: two visits, a prescription adopted between
them, and a follow-up that sees it heal (the same path `make demo` takes with 20,000 tickets);
then the README's next steps on the demo's workspace with no option but --workspace."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.report.view import format_p, format_value
from itsm_doctor.store import Store

README = Path(__file__).parents[2] / "README.md"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    ws = tmp_path_factory.mktemp("demo") / "itsm-doctor-demo"
    result = CliRunner().invoke(app, ["demo", "--tickets", "3000", "--workspace", str(ws), "-q"])
    assert result.exit_code == 0, result.output
    return ws, result.stdout


def test_demo_runs_two_visits_and_judges_the_adopted_prescription(demo: tuple[Path, str]) -> None:
    ws, printed = demo
    output = " ".join(printed.split())  # the demo printed at 80 columns: read it unwrapped
    assert "Report:" in output and "Adopted Publish an assignment matrix" in output
    assert "(assignment-matrix, register entry 1)" in output  # the id and the entry, as register list shows them

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
    # the latest visit's records sit in the workspace itself, where `followup` looks
    assert (ws / "visit-1" / "report.html").exists() and (ws / "records" / "event").is_dir()


def _next_steps() -> list[str]:
    """The commands the README gives after `make demo`, on the demo's workspace."""
    text = README.read_text(encoding="utf-8")
    block = text[text.index("## Carry on with the demo patient") :]
    block = block[block.index("```") + 3 :]
    block = block[: block.index("```")]
    return [line.strip() for line in block.strip().splitlines() if line.strip().startswith("itsm-doctor ")]


def _invoke(command: str, ws: Path) -> Any:
    args = shlex.split(command)[1:]
    args = [str(ws) + a.removeprefix("itsm-doctor-demo") if a.startswith("itsm-doctor-demo") else a for a in args]
    return CliRunner().invoke(app, args)


def test_the_readme_next_steps_run_on_the_demo_and_agree_with_it(demo: tuple[Path, str]) -> None:
    ws, output = demo
    steps = _next_steps()
    assert [s.split()[1:3] for s in steps] == [
        ["followup", "--workspace"],
        ["register", "list"],
        ["register", "adopt"],
        ["followup", "--workspace"],
    ]
    db = ws / "itsm-doctor.db"
    before = (db.stat().st_mtime_ns, db.stat().st_size)
    # 1. followup: the same verdicts and figures the demo printed
    followup = _invoke(steps[0], ws)
    assert followup.exit_code == 0, followup.output
    demo_effects = json.loads((ws / "followup.json").read_text())["effects"]
    assert [e["verdict"] for e in demo_effects] == ["healing", "healing"]
    table = output[output.index("Adopted Publish") :]  # what the demo printed from the adoption on
    for e in demo_effects:  # the figures the demo printed, and followup prints them again
        p = format_p(e["p_adjusted"] if "p_adjusted" in e else e["p_value"])
        figures = (format_value(e["before"], e["unit"]), format_value(e["after"], e["unit"]), p)
        assert all(f in table and f in followup.stdout for f in figures), figures
    assert followup.stdout.count("healing") == table.count("healing") >= 2  # the same verdicts, as often
    # 2. register list: the entry the demo adopted, under the demo's patient
    listed = _invoke(steps[1], ws)
    assert listed.exit_code == 0, listed.output
    assert "Improvement register of Demo patient (1 entry)" in listed.stdout
    assert "#1  Publish an assignment matrix by service and CI" in listed.stdout
    assert "    id assignment-matrix · for assignment-ping-pong" in listed.stdout
    # read-only so far: the store is untouched and still holds the one patient
    assert (db.stat().st_mtime_ns, db.stat().st_size) == before
    store = Store.open(workspace=ws)
    assert [(org, p.slug) for org, p in store.every_patient()] == [("default", "demo")]
    # 3. register adopt: an id the demo printed, adopted once
    rx = shlex.split(steps[2])[3]
    assert f"  {rx} — " in output
    adopted = _invoke(steps[2], ws)
    assert adopted.exit_code == 0, adopted.output
    assert f"({rx}) as register entry 2" in adopted.stdout
    again = _invoke(steps[2], ws)
    assert again.exit_code == 0 and "already in the register as entry 2" in again.stdout
    who = store.every_patient()[0][1]
    assert [e.prescription_id for e in store.register(patient=who)] == ["assignment-matrix", rx]
    # 4. followup again: the new prescription is followed up too
    second = _invoke(steps[3], ws)
    assert second.exit_code == 0, second.output
    assert json.loads((ws / "followup-2.json").read_text())["effects"][-1]["prescription"] == rx


def test_the_demo_report_reads_right_in_chromium(demo: tuple[Path, str], report_chart_problems: Any) -> None:
    ws, _ = demo
    seen, problems = report_chart_problems(ws / "report.html")
    assert problems == []
    controls = [c for c in seen["charts"] if c["kind"] == "control"]
    marked = {c["sign"] for c in controls if c["adopted"] == ["2026-07"]}
    assert {"incident.ping_pong_rate", "incident.mean_reassignments"} <= marked
    assert not [c for c in seen["charts"] if c["kind"] == "visit-trend"]  # two visits: a table, not two dots
    html = (ws / "report.html").read_text()
    assert "records 2026-01 – 2026-06" in html and "records 2026-01 – 2026-09" in html
    assert "Present on these records, improving since the remedy (adopted 2026-07-01; 2 of 2 signs healing)." in html
