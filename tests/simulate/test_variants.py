"""The realistic base and the ServiceNow export variants of the simulator (panel 2's inputs)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from itsm_doctor.simulate import Scenario, simulate
from itsm_doctor.simulate.variants import GAP_SHARE, write_snapshot_variant


@pytest.fixture(scope="module")
def canonical(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "canonical"
    simulate(Scenario(seed=77, tickets=1_500, base="realistic", request_share=0.0, dominant_priority_share=0.9), out)
    return out


def _csv(path: Path, query: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    try:
        return con.execute(query.replace("CSV", f"read_csv('{path}', all_varchar := true)")).fetchall()
    finally:
        con.close()


def test_the_realistic_base_has_the_real_logs_rates(canonical: Path) -> None:
    t = pq.read_table(canonical / "ticket.parquet").to_pylist()
    incidents = [x for x in t if x["ticket_type"] == "incident"]
    assert len(incidents) == 1_500
    at_p3 = sum(1 for x in incidents if x["priority"] == 3) / len(incidents)
    assert 0.87 <= at_p3 <= 0.93  # 90 % asked, binomial noise on 1,500
    reopened = sum(1 for x in incidents if x["reopen_count"]) / len(incidents)
    assert reopened <= 0.02
    linked = sum(1 for x in incidents if x["problem_id"]) / len(incidents)
    assert 0.01 <= linked <= 0.05


def test_variants_keep_what_they_promise(canonical: Path, tmp_path: Path) -> None:
    full = tmp_path / "full.csv"
    closed = tmp_path / "closed.csv"
    gaps = tmp_path / "gaps.csv"
    n_full = write_snapshot_variant(canonical, full, variant="snapshot", seed=1)
    write_snapshot_variant(canonical, closed, variant="closed-only", seed=1)
    n_gaps = write_snapshot_variant(canonical, gaps, variant="gaps", seed=1)
    # the counters the real export carries
    [(with_counter,)] = _csv(full, "SELECT count(*) FROM CSV WHERE reassignment_count IS NOT NULL")
    assert with_counter == n_full
    # closed-only: no ticket without a closure, and fewer tickets than the full export
    assert _csv(closed, "SELECT count(*) FROM CSV WHERE closed_at = '?'") == [(0,)]
    [(open_tickets,)] = _csv(full, "SELECT count(DISTINCT number) FROM CSV WHERE closed_at = '?'")
    [(all_tickets,)] = _csv(full, "SELECT count(DISTINCT number) FROM CSV")
    [(closed_tickets,)] = _csv(closed, "SELECT count(DISTINCT number) FROM CSV")
    assert open_tickets > 0 and closed_tickets == all_tickets - open_tickets
    # gaps: every ticket keeps its first and last row; about GAP_SHARE of the rows between go
    [(tickets_in_gaps,)] = _csv(gaps, "SELECT count(DISTINCT number) FROM CSV")
    assert tickets_in_gaps == all_tickets
    [(middle,)] = _csv(
        full,
        "SELECT count(*) FROM (SELECT sys_mod_count::INT m, max(sys_mod_count::INT) OVER (PARTITION BY number) l "
        "FROM CSV) WHERE m > 0 AND m < l",
    )
    dropped = (n_full - n_gaps) / middle
    assert GAP_SHARE - 0.05 <= dropped <= GAP_SHARE + 0.05
    with pytest.raises(ValueError, match="unknown export variant 'jira'"):
        write_snapshot_variant(canonical, tmp_path / "x.csv", variant="jira")
