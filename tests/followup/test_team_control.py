"""A control on real engine output: a simulated organisation whose ping-pong is cured
everywhere from 1 April. Judged as a department remedy, it heals; judged as the service
desk's own remedy against the seven groups it did not touch, the cure is not credited to the
desk — every group changed, so the change was not the desk's doing."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from itsm_doctor.examination import ticket_values
from itsm_doctor.followup.compare import AdoptedPrescription, followup
from itsm_doctor.intake.run import run_intake
from itsm_doctor.simulate import Scenario, Treatment, simulate

SINCE = date(2026, 4, 1)
TARGET = [{"id": "incident.ping_pong_rate", "direction": "down"}]


def test_an_organisation_wide_cure_is_not_credited_to_one_team(tmp_path: Path) -> None:
    cure = Treatment(dysfunction="assignment-ping-pong", since=SINCE)
    scenario = Scenario(seed=7, tickets=4_000, months=6, dysfunctions={"assignment-ping-pong": 0.8}, treatments=(cure,))
    simulate(scenario, tmp_path / "exports")
    run_intake([tmp_path / "exports"], source="canonical", workspace=tmp_path / "ws")
    values = ticket_values(tmp_path / "ws")
    per_ticket = values("incident.ping_pong_rate")
    assert per_ticket is not None
    groups = Counter(t.group for t in per_ticket)
    desk, _n = groups.most_common(1)[0]
    assert desk == "SD" and len(groups) == 8
    register = [
        AdoptedPrescription(
            prescription_id="swarming",
            title="Swarm on tickets that cross teams",
            dysfunction_id="assignment-ping-pong",
            since=SINCE,
            target_signs=TARGET,
            sphere="team",
            groups=("SD",),
        ),
        AdoptedPrescription(
            prescription_id="assignment-matrix",
            title="Publish an assignment matrix",
            dysfunction_id="assignment-ping-pong",
            since=SINCE,
            target_signs=TARGET,
        ),
    ]
    visit = {
        "visit": {"id": "v2", "at": "2026-07-01"},
        "signs": [
            {"id": "incident.ping_pong_rate", "name": "Ping-pong rate", "unit": "ratio", "benchmark": {"good": 0.05}}
        ],
    }
    result = followup(visits=[visit], register=register, ticket_values=values)
    team, department = result["effects"]
    assert department["verdict"] == "healing" and department["control"] is None
    assert department["confidence"] == "moderate"
    assert team["test"] == "difference in differences: SD against 7 untouched groups (weekly segmented regression)"
    assert team["control"]["control_groups"] == 7 and team["confidence"] == "high"
    assert team["control"]["treated_tickets"] + team["control"]["control_tickets"] == (
        team["cohorts"]["judged_before"] + team["cohorts"]["judged_after"]
    )
    # the desk's own ping-pong fell too, but no more than its peers': not the desk's cure
    assert team["after"] < team["before"] and team["verdict"] != "healing"
    assert result["correction"]["tests"] == 2
