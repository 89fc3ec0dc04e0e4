"""`examine --symptoms examples/answers.yaml`: symptoms enter the diagnosis, maturity is held
against what the records evidence, and the report shows the radar."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.simulate import Scenario, simulate

EXAMPLE = Path(__file__).parents[2] / "examples" / "answers.yaml"


def test_examine_with_the_example_answers_file(tmp_path: Path) -> None:
    simulate(Scenario(seed=21, tickets=2_000, dysfunctions={"problem-management-absent": 0.8}), tmp_path / "x")
    out, report = tmp_path / "exam.json", tmp_path / "report.html"
    result = CliRunner().invoke(
        app,
        [
            "examine",
            str(tmp_path / "x"),
            "--source",
            "canonical",
            "--workspace",
            str(tmp_path / "ws"),
            "--symptoms",
            str(EXAMPLE),
            "--json",
            str(out),
            "--report",
            str(report),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    exam = json.loads(out.read_text())
    pma = next(d for d in exam["diagnoses"] if d["id"] == "problem-management-absent")
    symptom = next(e for e in pma["evidence"] if e["id"] == "same-thing-every-week")
    assert symptom["value"] == 4.0 and symptom["supports"]  # mean of 5, 4 and 3
    assert pma["verdict"] == "present"
    practices = exam["maturity"]["practices"]
    # the example's respondents rate problem management 1, 2 and 3: median 2
    assert practices["problem-management"]["self"] == 2
    assert practices["knowledge-management"]["evidenced"] is None  # records cannot show it
    assert practices["problem-management"]["gap"] == 2 - practices["problem-management"]["evidenced"]
    html = report.read_text()
    assert '<section id="maturity">' in html and 'aria-label="maturity radar"' in html
