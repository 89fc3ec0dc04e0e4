"""Across visits: stagnant improvement gets a verdict from the second visit on, and --sphere
keeps the prescriptions within the user's circle of influence."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.followup.compare import followup_signs
from itsm_doctor.simulate import Scenario, simulate


def _examine(tmp: Path, exports: Path, name: str, *extra: str, records: str = "ws") -> dict[str, object]:
    out = tmp / f"{name}.json"
    result = CliRunner().invoke(
        app,
        [
            "examine",
            str(exports),
            "--source",
            "canonical",
            "--workspace",
            str(tmp / records),
            "--database",
            f"sqlite:///{tmp / 'ws' / 'itsm-doctor.db'}",
            "-q",
            "--json",
            str(out),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def test_stagnation_is_judged_from_the_second_visit(tmp_path: Path) -> None:
    sick = {"premature-resolution": 0.8}
    simulate(Scenario(seed=41, tickets=2_000, months=3, dysfunctions=sick), tmp_path / "v1")
    first = _examine(tmp_path, tmp_path / "v1", "v1", "--sphere", "team")
    verdicts = {d["id"]: d["verdict"] for d in first["diagnoses"]}  # type: ignore[index]
    assert verdicts["stagnant-improvement"] == "undetermined"
    assert {p["sphere"] for p in first["prescriptions"]} == {"team"}  # type: ignore[index]
    runner = CliRunner()
    adopted = runner.invoke(
        app,
        [
            "register",
            "adopt",
            "confirm-before-close",
            "--owner",
            "lead",
            "--since",
            "2026-02-01",
            "--workspace",
            str(tmp_path / "ws"),
        ],
    )
    assert adopted.exit_code == 0, adopted.output
    # the same sick organisation a quarter later: nothing improved, nothing done. The simulator
    # numbers tickets from 1 again, so its records go to their own folder (in one workspace the
    # second export's tickets would replace the first's: the latest version of a ticket wins)
    later = Scenario(seed=41, tickets=2_000, months=3, dysfunctions=sick, start=date(2026, 4, 1))
    simulate(later, tmp_path / "v2")
    second = _examine(tmp_path, tmp_path / "v2", "v2", records="ws-v2")
    stagnant = next(d for d in second["diagnoses"] if d["id"] == "stagnant-improvement")  # type: ignore[union-attr]
    assert stagnant["verdict"] == "present"
    evidence = {e["id"]: e["value"] for e in stagnant["evidence"]}
    assert evidence["followup.register_done_share"] == 0.0
    assert evidence["followup.improved_share"] < 0.25


def test_followup_signs_by_hand() -> None:
    first = {
        "signs": [
            {"id": "incident.reopen_rate", "value": 0.30, "status": "poor", "direction": "lower"},
            {"id": "incident.ping_pong_rate", "value": 0.20, "status": "poor", "direction": "lower"},
            {"id": "desk.first_contact_resolution", "value": 0.50, "status": "poor", "direction": "higher"},
            {"id": "incident.mttr", "value": 5.0, "status": "good", "direction": "lower"},
        ]
    }
    now = [
        {"id": "incident.reopen_rate", "value": 0.10},
        {"id": "incident.ping_pong_rate", "value": 0.19},
        {"id": "desk.first_contact_resolution", "value": 0.60},
        {"id": "incident.mttr", "value": 9.0},
    ]
    got = {
        s["id"]: s["value"]
        for s in followup_signs(
            first_visit=first, current_signs=now, register_statuses=["done", "adopted", "abandoned"], maturity_gap=1.5
        )
    }
    # reopen −67 % and FCR +20 % improved; ping-pong −5 % did not; mttr was good, not counted
    assert got == {"followup.improved_share": 2 / 3, "followup.register_done_share": 0.5, "followup.maturity_gap": 1.5}
