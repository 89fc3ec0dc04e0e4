"""Issue 21's acceptance: one simulated organisation, exported as ServiceNow (the snapshot log)
and as Jira Service Management (issue CSV + REST changelog), gives the same figures: the path of
a ticket (reassignment, ping-pong, reopen, first contact, waiting on the user), its priority
changes, its silences, and what its links and fields carry (change causes, problems, CIs, SLA)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.engine import open_records
from itsm_doctor.intake.run import run_intake
from itsm_doctor.signs import examine_signs, get_sign
from itsm_doctor.simulate.export import write_servicenow

RATES = (
    "incident.reassignment_rate",
    "incident.ping_pong_rate",
    "incident.reopen_rate",
    "desk.first_contact_resolution",
    "incident.priority_downgrade_rate",
    "incident.wait_user_rate",
    "incident.change_induced_share",
    "incident.recurring_rate",
    "incident.sla_compliance",
    "problem.incident_link_rate",
)
SILENCE = "incident.longest_silence"


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float | None]]:
    root = tmp_path_factory.mktemp("parity")
    out = root / "patient"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            str(out),
            "--tickets",
            "800",
            "--seed",
            "5",
            "--format",
            "jira",
            "-q",
            *("--dysfunction", "assignment-ping-pong=0.6"),
            *("--dysfunction", "premature-resolution=0.5"),
            *("--dysfunction", "priority-inflation=0.6"),
            *("--dysfunction", "customer-neglect=0.5"),
            *("--dysfunction", "change-induced-incidents=0.6"),
        ],
    )
    assert result.exit_code == 0, result.output
    write_servicenow(out, root / "sn" / "incident_event_log.csv")
    figures = {}
    # the simulator's folder also holds truth.json and Parquet files: the Jira reader takes its two files only
    for name, path, source in (("servicenow", root / "sn", "servicenow"), ("jira", out, "jira")):
        intake = run_intake([path], source=source, workspace=root / name)
        assert sum(f.rows_quarantined for f in intake.files) == 0
        if name == "jira":
            assert sorted(Path(f.file).name for f in intake.files) == ["jira_changelog.json", "jira_export.csv"]
        findings = examine_signs(open_records(root / name), signs=[get_sign(i) for i in (*RATES, SILENCE)])
        figures[name] = {f.sign.id: f.value for f in findings}
    return figures


@pytest.mark.parametrize("sign_id", RATES)
def test_rates_agree_within_one_point(both: dict[str, dict[str, float | None]], sign_id: str) -> None:
    sn, jira = both["servicenow"][sign_id], both["jira"][sign_id]
    assert sn is not None and jira is not None
    assert sn > 0.05  # a figure the dysfunctions make visible, not an empty agreement
    assert abs(sn - jira) <= 0.01


def test_silence_agrees_within_one_percent(both: dict[str, dict[str, float | None]]) -> None:
    sn, jira = both["servicenow"][SILENCE], both["jira"][SILENCE]
    assert sn is not None and jira is not None and sn > 1.0
    assert abs(sn - jira) <= 0.01 * sn
