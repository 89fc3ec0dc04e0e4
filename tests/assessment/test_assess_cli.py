"""Drive `itsm-doctor assess` with scripted terminal input."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from itsm_doctor.assessment.answers import load_answers
from itsm_doctor.cli import app


def test_assess_one_practice_stop_and_resume(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    runner = CliRunner()
    # service desk has 8 criteria: answer yes to the first three, a typo, then quit
    first = runner.invoke(
        app,
        [
            "assess",
            str(answers),
            "--respondent",
            "ana",
            "--role",
            "agent",
            "--practice",
            "service-desk",
            "--no-symptoms",
        ],
        input="y\ny\nmaybe\ny\nq\n",
    )
    assert first.exit_code == 0, first.output
    assert "stopped early" in first.output
    saved = load_answers(answers).respondent("ana")
    assert saved is not None
    assert saved.answers == {
        "desk-l1-contacts-are-answered": True,
        "desk-l2-every-contact-logged": True,
        "desk-l2-named-desk-lead": True,
    }
    # resume: only the five remaining questions are asked
    second = runner.invoke(
        app,
        [
            "assess",
            str(answers),
            "--respondent",
            "ana",
            "--role",
            "agent",
            "--practice",
            "service-desk",
            "--no-symptoms",
        ],
        input="y\nn\ny\ny\ns\n",
    )
    assert second.exit_code == 0, second.output
    assert "desk-l3" not in second.output and second.output.count("[y/n/s/q]") == 5
    saved = load_answers(answers).respondent("ana")
    assert saved is not None and len(saved.answers) == 7  # one skipped
    assert saved.answers["desk-l3-knowledge-for-top-requests"] is False
    assert "service-desk" in second.output and "2 managed" in second.output


def test_assess_refuses_unknown_role_and_practice(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_role = runner.invoke(app, ["assess", str(tmp_path / "a.yaml"), "--respondent", "x", "--role", "wizard"])
    assert bad_role.exit_code == 2 and "unknown role" in bad_role.output
    bad_practice = runner.invoke(
        app, ["assess", str(tmp_path / "a.yaml"), "--respondent", "x", "--role", "agent", "--practice", "astrology"]
    )
    assert bad_practice.exit_code == 2 and "unknown practice" in bad_practice.output
