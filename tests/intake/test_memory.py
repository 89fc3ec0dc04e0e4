"""Intake's DuckDB memory limit: a quarter of the machine's memory, never under 2 GB nor over 3 GB."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from itsm_doctor.intake.run import intake_memory, run_intake


def test_the_limit_is_a_quarter_of_the_machine_memory_between_2_and_3_gb() -> None:
    total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    limit = intake_memory()
    assert limit.endswith("MB")
    # e.g. 24 GiB of memory: a quarter is 6,144 MB, held at 3,072 MB; 4 GiB: 1,024 MB, raised to 2,048 MB
    assert int(limit[:-2]) == min(max(2048, total_mb // 4), 3072)


def test_the_environment_overrides_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    csv = tmp_path / "vinst.csv"
    csv.write_text(
        "SR Number,Change Date+Time,Status,Sub Status,Involved ST\n"
        "1-1,2012-01-02T10:00:00+00:00,Accepted,In Progress,T1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ITSM_DOCTOR_INTAKE_MEMORY", "300MB")
    # read the limit off the intake's own connection as it closes
    limits: list[str] = []
    original = duckdb.DuckDBPyConnection.close

    def close(con: duckdb.DuckDBPyConnection) -> None:
        limits.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])  # type: ignore[index]
        original(con)

    monkeypatch.setattr(duckdb.DuckDBPyConnection, "close", close)
    result = run_intake([csv], source="bpic2013", workspace=tmp_path / "ws")
    assert result.records["event"] == 1
    # DuckDB reports the limit in its own units: 300 MB is 286.1 MiB
    assert limits and limits[0] == "286.1 MiB"
