"""simulate → write a tool's layout → intake with that tool's reader → the same records."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.intake.run import run_intake


def _q(sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "out"
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
            "servicenow",
            "--dysfunction",
            "assignment-ping-pong=0.6",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_servicenow_snapshot_round_trip(simulated: Path, tmp_path: Path) -> None:
    result = run_intake([simulated / "incident_event_log.csv"], source="servicenow", workspace=tmp_path / "ws")
    assert sum(f.rows_quarantined for f in result.files) == 0
    canon = f"read_parquet('{simulated}/ticket.parquet')"
    back = f"read_parquet('{tmp_path}/ws/records/ticket/*.parquet')"
    original = _q(
        f"SELECT source_key, ticket_type, opened_at, resolved_at, closed_at, sla_met, priority FROM {canon} "
        "WHERE ticket_type IN ('incident', 'request') ORDER BY 1"
    )
    again = _q(
        f"SELECT source_key, ticket_type, opened_at, resolved_at, closed_at, sla_met, priority FROM {back} ORDER BY 1"
    )
    assert again == original and len(original) == 800
    # every event is one snapshot, and the group sequence (hence ping-pong) survives the trip
    events = f"read_parquet('{simulated}/event.parquet')"
    groups = (
        "SELECT count(*) FROM (SELECT ticket_id, to_group_id, lag(to_group_id) OVER (PARTITION BY ticket_id "
        "ORDER BY seq) AS prev FROM {t} WHERE to_group_id IS NOT NULL) WHERE prev IS DISTINCT FROM to_group_id"
    )
    snapshots = _q(f"SELECT count(*) FROM {events}")[0][0]
    assert result.files[0].rows_read == snapshots
    assert _q(groups.format(t=events)) == _q(groups.format(t=f"read_parquet('{tmp_path}/ws/records/event/*.parquet')"))


def test_xes_round_trip(simulated: Path, tmp_path: Path) -> None:
    from itsm_doctor.simulate.export import write_xes

    written = write_xes(simulated, tmp_path / "log.xes.gz")
    result = run_intake([tmp_path / "log.xes.gz"], source="xes", workspace=tmp_path / "ws")
    assert result.files[0].rows_read == written and result.files[0].rows_quarantined == 0
    canon = (
        f"read_parquet('{simulated}/event.parquet') e JOIN read_parquet('{simulated}/ticket.parquet') USING (ticket_id)"
    )
    original = _q(f"SELECT 'xes:' || source_key, e.ts, e.to_group_id FROM {canon} ORDER BY 1, 2, 3")
    again = _q(
        f"SELECT ticket_id, ts, replace(to_group_id, 'xes:', '') FROM read_parquet('{tmp_path}/ws/records/event/"
        "*.parquet') ORDER BY 1, 2, 3"
    )
    assert again == original


def test_servicenow_list_with_sys_audit_round_trip(simulated: Path, tmp_path: Path) -> None:
    from itsm_doctor.simulate.export import write_servicenow_list

    n_list, n_audit = write_servicenow_list(simulated, tmp_path / "sn")
    result = run_intake([tmp_path / "sn"], source="servicenow", workspace=tmp_path / "ws")
    assert {Path(f.file).name: (f.rows_read, f.rows_quarantined) for f in result.files} == {
        "incident.csv": (n_list, 0),
        "sys_audit.csv": (n_audit, 0),
    }
    canon = f"read_parquet('{simulated}/ticket.parquet')"
    original = _q(
        f"SELECT source_key, opened_at, resolved_at, sla_met, priority FROM {canon} "
        "WHERE ticket_type IN ('incident', 'request') ORDER BY 1"
    )
    again = _q(
        f"SELECT source_key, opened_at, resolved_at, sla_met, priority FROM read_parquet('{tmp_path}/ws/"
        "records/ticket/*.parquet') ORDER BY 1"
    )
    assert again == original
    history = _q(
        f"SELECT count(*) FILTER (WHERE origin = 'history') FROM read_parquet('{tmp_path}/ws/records/event/*.parquet')"
    )
    assert history == [(n_audit,)]


def test_jira_round_trip(simulated: Path, tmp_path: Path) -> None:
    from itsm_doctor.simulate.export import write_jira

    issues, items = write_jira(simulated, tmp_path / "jira")
    result = run_intake([tmp_path / "jira"], source="jira", workspace=tmp_path / "ws")
    assert {Path(f.file).name: (f.rows_read, f.rows_quarantined) for f in result.files} == {
        "jira_export.csv": (issues, 0),
        "jira_changelog.json": (items, 0),
    }
    assert issues == 800
    canon = f"read_parquet('{simulated}/ticket.parquet')"
    # Jira's CSV keeps minutes; the first resolution comes from the changelog, to the second
    original = _q(
        f"SELECT source_key, ticket_type, date_trunc('minute', opened_at), resolved_at, priority FROM {canon} "
        "WHERE ticket_type IN ('incident', 'request') AND resolved_at IS NOT NULL ORDER BY 1"
    )
    again = _q(
        f"SELECT source_key, ticket_type, opened_at, resolved_at, priority FROM read_parquet('{tmp_path}/ws/records/"
        f"ticket/*.parquet') WHERE source_key IN (SELECT source_key FROM {canon} WHERE resolved_at IS NOT NULL) "
        "ORDER BY 1"
    )
    assert again == original and len(original) > 700
    # the group sequence (hence ping-pong) survives the trip, as through the ServiceNow log
    events = f"read_parquet('{simulated}/event.parquet')"
    groups = (
        "SELECT count(*) FROM (SELECT ticket_id, to_group_id, lag(to_group_id) OVER (PARTITION BY ticket_id "
        "ORDER BY seq) AS prev FROM {t} WHERE to_group_id IS NOT NULL) WHERE prev IS DISTINCT FROM to_group_id"
    )
    assert _q(groups.format(t=events)) == _q(groups.format(t=f"read_parquet('{tmp_path}/ws/records/event/*.parquet')"))
    # what the CSV cells carry: CI, category, SLA outcome, satisfaction (in stars, to the minute)
    fields = "SELECT {key}, {ci}, category, sla_met FROM {t} WHERE ticket_type IN ('incident', 'request') ORDER BY 1"
    back = f"read_parquet('{tmp_path}/ws/records/ticket/*.parquet')"
    assert _q(fields.format(key="source_key", ci="ci_id", t=canon)) == _q(
        fields.format(key="source_key", ci="replace(ci_id, 'jira:', '')", t=back)
    )
    surveys = (
        "SELECT replace(ticket_id, 'jira:', ''), round(score), date_trunc('minute', answered_at) FROM {t} ORDER BY 1"
    )
    original = _q(surveys.format(t=f"read_parquet('{simulated}/survey_response.parquet')"))
    assert original == _q(surveys.format(t=f"read_parquet('{tmp_path}/ws/records/survey_response/*.parquet')"))
    assert len(original) > 50
