"""The simulator: deterministic, healthy by default, and each dysfunction moves its signs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import cache
from pathlib import Path

import pyarrow as pa
import pytest

from itsm_doctor.engine import open_records
from itsm_doctor.intake.run import run_intake
from itsm_doctor.signs import SIGNS, compute
from itsm_doctor.simulate import DYSFUNCTIONS, Scenario, simulate

TICKETS = 3_000
SEED = 11

# dysfunction → (sign, direction) it must move; from the sign plan in docs/signs.md
MOVES: dict[str, list[tuple[str, int]]] = {
    "assignment-ping-pong": [("incident.ping_pong_rate", 1), ("incident.mean_reassignments", 1)],
    "backlog-growth": [
        ("incident.backlog_growth", 1),
        ("incident.demand_capacity_ratio", 1),
        ("incident.backlog_age_p90", 1),
        ("incident.mttr_trend", 1),
    ],
    "change-induced-incidents": [
        ("incident.change_induced_share", 1),
        ("change.success_rate", -1),
        ("change.incidents_per_change", 1),
    ],
    "customer-neglect": [
        ("desk.time_to_first_response", 1),
        ("incident.longest_silence", 1),
        ("incident.customer_satisfaction", -1),
        ("incident.survey_response_rate", -1),
    ],
    "desk-role-ambiguity": [
        ("desk.first_contact_resolution", -1),
        ("desk.first_line_only_rate", -1),
        ("desk.agent_inconsistency", 1),
        ("incident.escalation_rate", 1),
    ],
    "desk-role-conflict": [("incident.out_of_scope_rate", 1), ("incident.customer_satisfaction", -1)],
    "key-person-dependency": [("incident.key_person_concentration", 1), ("incident.single_agent_service_share", 1)],
    "premature-resolution": [("incident.reopen_rate", 1), ("incident.quick_reopen_rate", 1)],
    "priority-inflation": [("incident.high_priority_share", 1), ("incident.priority_downgrade_rate", 1)],
    "priority-not-driving-work": [("incident.priority_effect", -1)],
    "problem-management-absent": [
        ("incident.recurring_rate", 1),
        ("problem.incident_link_rate", -1),
        ("problem.records_per_100_incidents", -1),
    ],
    "push-to-front-failure": [("desk.quick_escalation_rate", 1), ("desk.first_line_only_rate", -1)],
    "ungoverned-process": [
        ("process.lifecycle_conformance", -1),
        ("process.skipped_resolution_rate", 1),
        ("process.backward_transition_rate", 1),
        ("records.completeness", -1),
    ],
    "wait-user-abuse": [
        ("incident.wait_user_near_deadline", 1),
        ("incident.wait_user_rate", 1),
        ("incident.wait_user_time_share", 1),
    ],
}
# signs that are n/a, not 0, when nothing is open at the end of the records
NOTHING_OPEN = frozenset({"incident.backlog_age_p90"})
# signs that only one dysfunction (or none) moves: they must stay within noise elsewhere
CONTROLS = (
    "incident.reopen_rate",
    "change.success_rate",
    "incident.high_priority_share",
    "process.lifecycle_conformance",
)
_BY_ID = {s.id: dataclasses.replace(s, breakdowns=()) for s in SIGNS}


@cache
def measured(dysfunction: str | None, tmp: Path) -> dict[str, float | None]:
    out = tmp / (dysfunction or "healthy")
    sc = Scenario(seed=SEED, tickets=TICKETS, dysfunctions={dysfunction: 0.8} if dysfunction else {})
    simulate(sc, out / "exports")
    run_intake([out / "exports"], source="canonical", workspace=out / "ws")
    records = open_records(out / "ws")
    wanted = {sid for moves in MOVES.values() for sid, _ in moves} | set(CONTROLS)
    return {sid: compute(_BY_ID[sid], records).value for sid in sorted(wanted)}


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sim")


def test_every_dysfunction_the_records_can_show_has_a_mechanism() -> None:
    assert set(MOVES) == set(DYSFUNCTIONS)


@pytest.mark.parametrize("dysfunction", sorted(MOVES))
def test_dysfunction_moves_its_signs_and_not_the_controls(dysfunction: str, tmp: Path) -> None:
    healthy, sick = measured(None, tmp), measured(dysfunction, tmp)
    for sign_id, direction in MOVES[dysfunction]:
        before, after = healthy[sign_id], sick[sign_id]
        if before is None and sign_id in NOTHING_OPEN:  # a healthy patient may end with nothing open
            assert after is not None, (sign_id, before, after)
            continue
        assert before is not None and after is not None, (sign_id, before, after)
        change = (after - before) * direction
        # clearly: two points of a share, or a quarter of the healthy value for other units
        needed = 0.02 if _BY_ID[sign_id].unit == "ratio" else 0.25 * max(abs(before), 0.02)
        assert change > needed, f"{dysfunction} should move {sign_id}: {before:.4f} → {after:.4f}"
    moved = {sid for sid, _ in MOVES[dysfunction]}
    for sign_id in CONTROLS:
        if sign_id in moved or (dysfunction, sign_id) in {
            ("desk-role-conflict", "incident.reopen_rate"),  # a promise the desk cannot keep comes back
        }:
            continue
        before, after = healthy[sign_id], sick[sign_id]
        assert before is not None and after is not None
        assert abs(after - before) < 0.03, f"{dysfunction} should leave {sign_id} alone: {before:.4f} → {after:.4f}"


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    sc = Scenario(seed=5, tickets=1_500, dysfunctions={"assignment-ping-pong": 0.5})

    def digest(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}

    simulate(sc, tmp_path / "a")
    simulate(sc, tmp_path / "c")
    assert digest(tmp_path / "a") == digest(tmp_path / "c")
    truth = json.loads((tmp_path / "a" / "truth.json").read_text())
    assert truth["seed"] == 5 and truth["tickets"] == 1_500
    assert truth["dysfunctions"] == {"assignment-ping-pong": 0.5}


def test_round_trip_through_the_canonical_source(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    simulate(Scenario(seed=3, tickets=1_000), tmp_path / "out")
    result = run_intake([tmp_path / "out"], source="canonical", workspace=tmp_path / "ws")
    written = {p.stem: pq.read_metadata(p).num_rows for p in (tmp_path / "out").glob("*.parquet")}
    assert {f.rows_read for f in result.files} and sum(f.rows_quarantined for f in result.files) == 0
    for table, rows in written.items():
        assert result.records[table] == rows, table
    import pyarrow.compute as pc

    def work(table: pa.Table) -> pa.Table:  # intake gives a closed change its closing time as resolution
        return table.filter(pc.is_in(table["ticket_type"], pa.array(["incident", "request"]))).sort_by("ticket_id")

    back = work(pq.read_table(next((tmp_path / "ws" / "records" / "ticket").glob("*.parquet"))))
    original = work(pq.read_table(tmp_path / "out" / "ticket.parquet"))
    for column in ("ticket_id", "ticket_type", "priority", "opened_at", "resolved_at", "sla_met", "problem_id"):
        assert back[column].to_pylist() == original[column].to_pylist(), column


def test_treatment_lowers_severity_from_its_date(tmp_path: Path) -> None:
    from datetime import date

    from itsm_doctor.simulate import Treatment

    sick = Scenario(seed=4, tickets=4_000, dysfunctions={"premature-resolution": 0.9})
    treated = dataclasses.replace(
        sick, treatments=(Treatment(dysfunction="premature-resolution", since=date(2026, 4, 1)),)
    )
    simulate(treated, tmp_path / "t")
    run_intake([tmp_path / "t"], source="canonical", workspace=tmp_path / "ws")
    records = open_records(tmp_path / "ws")
    reopen = compute(dataclasses.replace(_BY_ID["incident.reopen_rate"], breakdowns=("month",)), records)
    months = reopen.breakdowns["month"]
    early = [months[m]["value"] for m in ("2026-01", "2026-02", "2026-03")]
    late = [months[m]["value"] for m in ("2026-04", "2026-05")]
    assert min(early) > 0.25 and max(late) < 0.08, (early, late)
