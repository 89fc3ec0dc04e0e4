from __future__ import annotations

from pathlib import Path

import pytest

from itsm_doctor.assessment.answers import AnswersError, load_answers, save_answers
from itsm_doctor.assessment.maturity import load_maturity_bank, score_practices


def _yes_up_to(practice: str, level: int) -> dict[str, bool]:
    bank = load_maturity_bank()
    return {c.id: c.level <= level for c in bank.practice(practice).criteria}


def test_the_bank_covers_twelve_practices_at_every_level() -> None:
    bank = load_maturity_bank()
    assert len(bank.practices) == 12
    for practice in bank.practices:
        assert {c.level for c in practice.criteria} == {1, 2, 3, 4, 5}
        assert all(c.rationale for c in practice.criteria)


def test_a_level_counts_only_with_all_lower_levels() -> None:
    answers = _yes_up_to("incident-management", 4)
    answers["incident-l2-priority-set"] = False  # a hole at level 2
    [score] = [s for s in score_practices([("ana", "agent", answers)]) if s.practice == "incident-management"]
    assert score.level == 1  # levels 3 and 4 are met but do not count without level 2


def test_unanswered_criteria_count_as_not_met_and_are_reported() -> None:
    answers = {"desk-l1-contacts-are-answered": True, "desk-l2-every-contact-logged": True}
    [score] = [s for s in score_practices([("ana", "agent", answers)]) if s.practice == "service-desk"]
    assert score.level == 1  # desk-l2-named-desk-lead unanswered
    assert score.unanswered == {"ana": 6}


def test_median_spread_and_role_disagreement() -> None:
    people = [
        ("ana", "agent", _yes_up_to("service-desk", 1)),
        ("ben", "agent", _yes_up_to("service-desk", 2)),
        ("cleo", "process_owner", _yes_up_to("service-desk", 4)),
        ("dan", "team_lead", _yes_up_to("service-desk", 4)),
    ]
    [score] = [s for s in score_practices(people) if s.practice == "service-desk"]
    assert score.by_respondent == {"ana": 1, "ben": 2, "cleo": 4, "dan": 4}
    assert score.level == 3  # median of 1, 2, 4, 4 is 3.0
    assert score.spread == 3
    assert score.by_role == {"agent": 1.5, "process_owner": 4.0, "team_lead": 4.0}
    assert score.role_gap == 2.5 and score.roles_disagree
    # practices nobody rated stay unrated
    [problem] = [s for s in score_practices(people) if s.practice == "problem-management"]
    assert problem.level is None and problem.by_respondent == {}


def test_half_levels_round_down() -> None:
    people = [("a", "agent", _yes_up_to("change-enablement", 2)), ("b", "agent", _yes_up_to("change-enablement", 3))]
    [score] = [s for s in score_practices(people) if s.practice == "change-enablement"]
    assert score.level == 2


def test_answers_file_round_trip_and_checks(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(
        "patient: acme\n"
        "respondents:\n"
        "  - name: Ana\n    role: agent\n    answered_at: 2026-11-20\n"
        "    answers:\n      desk-l1-contacts-are-answered: yes\n      some-symptom: 4\n",
        encoding="utf-8",
    )
    answers = load_answers(path)
    assert answers.respondents[0].answers == {"desk-l1-contacts-are-answered": True, "some-symptom": 4}
    answers.check(criteria=load_maturity_bank().criterion_ids, symptoms={"some-symptom"}, where=str(path))
    with pytest.raises(AnswersError, match=r"respondent 'Ana', question 'some-symptom': unknown question id"):
        answers.check(criteria=load_maturity_bank().criterion_ids, symptoms=set(), where=str(path))
    save_answers(tmp_path / "again.yaml", answers)
    assert load_answers(tmp_path / "again.yaml") == answers


def test_answers_file_errors_name_file_and_place(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("respondents:\n  - name: Bo\n    role: wizard\n", encoding="utf-8")
    with pytest.raises(AnswersError, match=r"bad.yaml: respondents.0.role"):
        load_answers(path)
    csv_path = tmp_path / "answers.csv"
    csv_path.write_text("respondent,role,question,answer\nana,agent,x,yes\nana,agent,y,maybe\n", encoding="utf-8")
    with pytest.raises(AnswersError, match=r"answers.csv: row 3"):
        load_answers(csv_path)
