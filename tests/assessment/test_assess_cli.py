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
    assert "desk-l3" not in second.output and second.output.count("[y/n/s/b/q]") == 5
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


def test_assess_explains_the_scale_counts_practices_goes_back_and_names_the_patient(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    args = ["assess", str(answers), "--respondent", "ana", "--role", "agent", "--patient", "acme-it"]
    # service desk (8 criteria) then incident management: y, n, then back to change the
    # second answer to y, then y, then stop in the first practice
    result = CliRunner().invoke(
        app,
        [*args, "--practice", "service-desk", "--practice", "incident-management", "--no-symptoms"],
        input="y\nn\nb\ny\ny\nq\n",
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # the keys are explained before the first question, the practice is counted
    explained = next(i for i, line in enumerate(lines) if line.startswith("Capability criteria: y yes"))
    first = next(i for i, line in enumerate(lines) if "1/8 L1" in line)
    assert explained < first
    assert "Practice 1 of 2: Service desk — 8 question(s)" in result.output
    assert "2/8 L2" in result.output and result.output.count("2/8 L2") == 2  # asked again after b
    saved = load_answers(answers)
    assert saved.patient == "acme-it"
    ana = saved.respondent("ana")
    assert ana is not None
    assert ana.answers == {
        "desk-l1-contacts-are-answered": True,
        "desk-l2-every-contact-logged": True,  # n changed to y by going back
        "desk-l2-named-desk-lead": True,
    }
    assert "patient: acme-it" in answers.read_text()
    # another patient's answers do not go into this file
    other = CliRunner().invoke(
        app, ["assess", str(answers), "--respondent", "bo", "--role", "agent", "--patient", "other"], input="q\n"
    )
    assert other.exit_code == 2 and "holds answers about 'acme-it'" in other.output


def test_the_symptom_scale_is_explained_before_the_first_statement(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    result = CliRunner().invoke(
        app,
        ["assess", str(answers), "--respondent", "ana", "--role", "agent", "--practice", "service-desk"],
        input="s\n" * 8 + "4\nq\n",
    )
    assert result.exit_code == 0, result.output
    out = result.output
    scale = out.index("1 strongly disagree · 2 disagree · 3 neither · 4 agree · 5 strongly agree")
    assert scale < out.index("[1-5/s/b/q]")
    saved = load_answers(answers)
    ana = saved.respondent("ana")
    assert saved.patient == "patient" and ana is not None and list(ana.answers.values()) == [4]
