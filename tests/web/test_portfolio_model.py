"""The portfolio's numbers on hand-made patients: standings, next follow-ups, headlines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from itsm_doctor.signs import SIGNS
from itsm_doctor.web.portfolio_model import (
    MAIN_SIGNS,
    Adopted,
    PatientFacts,
    SummaryCache,
    next_follow_up,
    portfolio,
    standing,
    summarise,
)


def _exam(mttr: float | None, fcr: float | None = None, present: tuple[tuple[str, float], ...] = ()) -> dict[str, Any]:
    signs = [
        {"id": "incident.mttr", "value": mttr, "unit": "h", "status": "n/a" if mttr is None else "fair"},
    ]
    if fcr is not None:
        signs.append({"id": "desk.first_contact_resolution", "value": fcr, "unit": "ratio", "status": "fair"})
    diagnoses = [{"id": n.lower(), "name": n, "verdict": "present", "likelihood": lk} for n, lk in present]
    diagnoses.append({"id": "x", "name": "Absent one", "verdict": "absent", "likelihood": 0.1})
    return {"signs": signs, "diagnoses": diagnoses}


def _patient(org: int, slug: str, exam: dict[str, Any] | None, **kw: Any) -> PatientFacts:
    return PatientFacts(
        organisation_id=org,
        organisation_slug=f"org{org}",
        organisation_name=f"Org {org}",
        patient_slug=slug,
        patient_name=slug.upper(),
        latest=exam,
        **kw,
    )


def test_five_patients_stand_at_100_75_50_25_and_0_on_a_lower_is_better_sign() -> None:
    mttrs = [30.0, 10.0, 50.0, 20.0, 40.0]
    fcrs = [0.5, 0.9, 0.7, 0.7, 0.6]
    patients = [_patient(1 + i % 2, f"p{i}", _exam(m, f)) for i, (m, f) in enumerate(zip(mttrs, fcrs, strict=True))]
    view = portfolio(patients, today=date(2026, 12, 3))
    got = {r.patient_slug: r.standings["incident.mttr"].percentile for r in view.rows}
    assert got == {"p0": 50.0, "p1": 100.0, "p2": 0.0, "p3": 75.0, "p4": 25.0}
    # higher is better, with a tie: 0.9 beats all 4; the two 0.7 beat 2 and tie 1 → (2 + 0.5)/4
    fcr = {r.patient_slug: r.standings["desk.first_contact_resolution"].percentile for r in view.rows}
    assert fcr == {"p0": 0.0, "p1": 100.0, "p2": 62.5, "p3": 62.5, "p4": 25.0}
    assert view.rows[1].standings["incident.mttr"].shown == "10.0 h"
    assert view.rows[1].standings["incident.mttr"].peers == 5
    # a sign no patient has
    assert view.rows[0].standings["incident.reopen_rate"].percentile is None
    assert view.rows[0].standings["incident.reopen_rate"].peers == 0


def test_standing_counts_ties_half_and_needs_another_patient() -> None:
    assert standing(10.0, [10.0, 30.0], direction="lower") == 75.0
    assert standing(10.0, [], direction="lower") is None
    assert standing(0.8, [0.8], direction="higher") == 50.0


def test_a_member_sees_only_the_own_organisation_and_no_standing_among_fewer_than_five() -> None:
    four = [_patient(1, "mine", _exam(20.0)), _patient(2, "a", _exam(10.0)), _patient(2, "b", _exam(30.0))]
    four.append(_patient(3, "c", _exam(40.0)))
    view = portfolio(four, today=date(2026, 12, 3), visible={1}, member_view=True)
    assert [r.patient_slug for r in view.rows] == ["mine"]
    s = view.rows[0].standings["incident.mttr"]
    assert (s.percentile, s.hidden, s.peers) == (None, True, 4)
    five = [*four, _patient(3, "d", _exam(50.0))]
    s = portfolio(five, today=date(2026, 12, 3), visible={1}, member_view=True).rows[0].standings["incident.mttr"]
    assert (s.percentile, s.hidden, s.peers) == (75.0, False, 5)  # better than 40, 50, 30; worse than 10
    # the owner's view shows the standing among four
    s = portfolio(four, today=date(2026, 12, 3), visible={1}).rows[0].standings["incident.mttr"]
    assert s.percentile == pytest.approx(200 / 3)


def test_the_next_follow_up_is_the_earliest_due_not_yet_followed_up() -> None:
    register = [
        Adopted(title="Assignment rules", status="adopted", adopted_on=date(2026, 9, 1), follow_up_days=30),  # 10-01
        Adopted(title="Knowledge base", status="in_progress", adopted_on=date(2026, 9, 15), follow_up_days=60),  # 11-14
        Adopted(title="Dropped", status="abandoned", adopted_on=date(2026, 8, 1), follow_up_days=10),  # ignored
        Adopted(title="No days", status="adopted", adopted_on=date(2026, 8, 1), follow_up_days=None),  # ignored
        Adopted(title="Later", status="done", adopted_on=date(2026, 11, 1), follow_up_days=90),  # 2027-01-30
    ]
    today = date(2026, 12, 3)
    # no visit since: the earliest, 1 October, is overdue by 63 days
    due = next_follow_up(register, [datetime(2026, 8, 20, tzinfo=UTC)], today=today)
    assert due is not None
    assert (due.on, due.title, due.overdue, due.days) == (date(2026, 10, 1), "Assignment rules", True, -63)
    # a visit on 1 October follows the first up: next is 14 November, still overdue
    due = next_follow_up(register, [datetime(2026, 10, 1, 9, tzinfo=UTC)], today=today)
    assert due is not None and (due.on, due.overdue) == (date(2026, 11, 14), True)
    # a visit on 20 November follows both up: next is 30 January 2027, in 58 days
    due = next_follow_up(register, [datetime(2026, 11, 20, tzinfo=UTC)], today=today)
    assert due is not None and (due.on, due.title, due.overdue, due.days) == (date(2027, 1, 30), "Later", False, 58)
    assert next_follow_up(register, [datetime(2027, 2, 1, tzinfo=UTC)], today=today) is None


def test_a_row_gives_visits_last_visit_and_the_headline_present_diagnoses() -> None:
    exam = _exam(12.0, present=(("Backlog growth", 0.7), ("Ping pong", 0.9), ("Key person", 0.8), ("Neglect", 0.6)))
    times = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 11, 2, 23, 30, tzinfo=UTC))
    row = portfolio([_patient(1, "p", exam, visit_times=times)], today=date(2026, 12, 3)).rows[0]
    assert (row.visits, row.last_visit) == (2, date(2026, 11, 2))
    assert row.present == ("Ping pong", "Key person", "Backlog growth") and row.more_present == 1
    assert row.standings["incident.mttr"].percentile is None  # alone: nothing to compare
    empty = portfolio([_patient(1, "new", None)], today=date(2026, 12, 3)).rows[0]
    assert (empty.visits, empty.last_visit, empty.present, empty.due) == (0, None, (), None)


def test_the_main_signs_exist_with_the_direction_the_portfolio_uses() -> None:
    by_id = {s.id: s for s in SIGNS}
    for sign_id, _name, direction in MAIN_SIGNS:
        assert by_id[sign_id].direction == direction, sign_id


def test_a_visit_summary_keeps_the_main_signs_and_present_diagnoses_and_is_loaded_once() -> None:
    exam = _exam(12.0, fcr=0.8, present=(("Ping pong", 0.9),))
    exam["signs"].append({"id": "incident.ping_pong_rate", "value": 0.3, "unit": "ratio", "status": "poor"})
    exam["signs"][0]["breakdowns"] = {"month": {"2026-01": 1.0}}
    assert summarise(exam) == {
        "signs": [
            {"id": "incident.mttr", "value": 12.0, "unit": "h", "status": "fair"},
            {"id": "desk.first_contact_resolution", "value": 0.8, "unit": "ratio", "status": "fair"},
        ],
        "diagnoses": [{"id": "ping pong", "name": "Ping pong", "verdict": "present", "likelihood": 0.9}],
    }
    loads: list[list[str]] = []

    def load(ids: list[str]) -> dict[str, dict[str, Any]]:
        loads.append(ids)
        return {i: exam for i in ids}

    cache = SummaryCache(size=2)
    assert set(cache.get(["a", "b"], load)) == {"a", "b"}
    assert set(cache.get(["b", "a"], load)) == {"a", "b"}  # both kept: nothing loaded
    cache.get(["c"], load)  # evicts the least recently used, b
    cache.get(["a", "b"], load)
    assert loads == [["a", "b"], ["c"], ["b"]]
