"""Visit 1 of a sick patient, a prescription adopted, visit 2 after the remedy took effect:
follow-up reports healing on the prescription's target signs, and no healing where nothing
was treated."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.simulate import Scenario, Treatment, simulate

SICK = {"premature-resolution": 0.8, "assignment-ping-pong": 0.8}


def test_treated_dysfunction_heals_untreated_does_not(tmp_path: Path) -> None:
    runner = CliRunner()
    store = ["--database", f"sqlite:///{tmp_path / 'store.db'}"]

    def run(*args: str) -> str:
        result = runner.invoke(app, [*args])
        assert result.exit_code == 0, (args[:2], result.output)
        return result.output

    # visit 1: January–April, untreated
    simulate(Scenario(seed=31, tickets=4_000, months=4, dysfunctions=SICK), tmp_path / "v1")
    run(
        "examine",
        str(tmp_path / "v1"),
        "--source",
        "canonical",
        "--workspace",
        str(tmp_path / "ws1"),
        *store,
        "-q",
        "--json",
        str(tmp_path / "v1.json"),
    )
    visit1 = json.loads((tmp_path / "v1.json").read_text())
    found = {d["id"]: d["verdict"] for d in visit1["diagnoses"]}
    assert found["premature-resolution"] == "present" and found["assignment-ping-pong"] == "present"
    offered = {p["id"] for p in visit1["prescriptions"]}
    assert {"confirm-before-close", "assignment-matrix"} <= offered

    # both prescriptions adopted from 1 April; only premature resolution is really treated. Visit 2
    # covers January–June: the follow-up needs a quarter of weekly trend before the adoption
    for rx in ("confirm-before-close", "assignment-matrix"):
        run(
            "register",
            "adopt",
            rx,
            "--owner",
            "service desk manager",
            "--since",
            "2026-04-01",
            "--workspace",
            str(tmp_path / "ws1"),
            *store,
        )
    treated = Scenario(
        seed=32,
        tickets=4_000,
        months=6,
        dysfunctions=SICK,
        treatments=(Treatment(dysfunction="premature-resolution", since=date(2026, 4, 1)),),
    )
    simulate(treated, tmp_path / "v2")
    run("examine", str(tmp_path / "v2"), "--source", "canonical", "--workspace", str(tmp_path / "ws2"), *store, "-q")

    report = tmp_path / "followup.html"
    run(
        "followup",
        "--workspace",
        str(tmp_path / "ws2"),
        *store,
        "--json",
        str(tmp_path / "f.json"),
        "--report",
        str(report),
    )
    followup = json.loads((tmp_path / "f.json").read_text())
    effects = {(e["prescription"], e["sign"]): e for e in followup["effects"]}
    reopen = effects[("confirm-before-close", "incident.reopen_rate")]
    assert reopen["verdict"] == "healing" and reopen["p_value"] < 0.05
    assert reopen["after"] < reopen["before"] / 2
    assert effects[("confirm-before-close", "incident.quick_reopen_rate")]["verdict"] == "healing"
    ping = effects[("assignment-matrix", "incident.ping_pong_rate")]
    assert ping["verdict"] != "healing"
    assert [v["at"][:4] for v in followup["visits"]] == ["2026", "2026"]
    assert '<section id="followup">' in report.read_text()
