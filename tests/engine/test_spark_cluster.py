"""The examination on a Spark standalone cluster gives DuckDB's findings, sign by sign.

A session fixture starts a master and two one-core workers on the loopback from the PySpark
installation itself (its ``jars/``; no Spark download, no ``SPARK_HOME`` of the machine's),
waits until the master's JSON shows both workers alive, and tears the JVMs down afterwards,
also when a test fails: each JVM leads its own process group, which takes the executors the
workers spawn with it. The examination runs through the CLI in a child process, as a user
runs it (``--engine spark --spark-master spark://127.0.0.1:PORT``); its records are Parquet
files in a temporary workspace, which the workers, on the same machine, read by path.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from itsm_doctor.examination import examine
from itsm_doctor.signs import SIGNS
from itsm_doctor.spark_cluster import ClusterError, LoopbackCluster

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="pyspark not installed (extra 'spark')"),
    pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime on PATH (the Spark cluster runs on it)"),
]

TICKETS = 400  # a small simulated patient: every practice's records, seconds to examine


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCluster]:
    """Two one-core workers offering 1 GB each; stopped (process groups and all) even when a test fails."""
    cluster = LoopbackCluster(tmp_path_factory.mktemp("spark-cluster"), workers=2, cores=1, memory="1g")
    try:
        cluster.start()
    except ClusterError as exc:
        pytest.fail(str(exc))
    try:
        yield cluster
    finally:
        pids = cluster.pids()
        left = cluster.stop()
        assert not left, f"Spark daemons still running after teardown: process groups {left}"
        assert not [p for p in pids if Path(f"/proc/{p}").exists()]


def _close(a: Any, b: Any, path: str, out: list[str]) -> None:
    """Every difference between two JSON values, floats to a relative 1e-9."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            out.append(f"{path}: keys {sorted(set(a) ^ set(b))} on one side only")
        for k in a.keys() & b.keys():
            _close(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]", out)
    elif isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
            out.append(f"{path}: {a} (DuckDB) != {b} (Spark)")
    elif a != b:
        out.append(f"{path}: {a!r} (DuckDB) != {b!r} (Spark)")


def test_examination_on_the_cluster_equals_duckdb(spark_cluster: LoopbackCluster, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "itsm_doctor",
            "simulate",
            str(exports),
            "--tickets",
            str(TICKETS),
            "--seed",
            "11",
            "--format",
            "servicenow",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    # executors of 512 MB (the workers offer 1 GB each), both workers' cores
    env = {
        **os.environ,
        **spark_cluster.driver_env(),
        "PYSPARK_SUBMIT_ARGS": "--conf spark.executor.memory=512m --conf spark.cores.max=2 pyspark-shell",
    }
    env.pop("COLUMNS", None)
    ws = tmp_path / "ws-spark"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "itsm_doctor", "examine", str(exports), "--source", "servicenow"),
            *("--engine", "spark", "--spark-master", spark_cluster.url),
            *("--workspace", str(ws), "--json", str(tmp_path / "spark.json"), "--quiet"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Spark's log lines went to the workspace's log, not to the terminal
    for noise in ("log4j", "WARN", "INFO", "NativeCodeLoader", "Setting default log level", "Stage"):
        assert noise not in done.stderr, done.stderr[-3000:]
    assert (ws / "spark.log").is_file()
    # the application ran on this cluster, on both workers' cores
    apps = [a for a in spark_cluster.state()["completedapps"] if a["name"] == "itsm-doctor"]
    assert apps and apps[-1]["cores"] == 2, apps

    on_spark = {s["id"]: s for s in json.loads((tmp_path / "spark.json").read_text())["signs"]}
    exam, _ = examine([exports], source="servicenow", workspace=tmp_path / "ws-duckdb", engine="duckdb")
    on_duckdb = {s["id"]: s for s in exam.as_json()["signs"]}
    assert set(on_duckdb) == set(on_spark) == {s.id for s in SIGNS}
    measured = [i for i, s in on_duckdb.items() if s["status"] != "n/a"]
    assert len(measured) >= 40, f"only {len(measured)} signs measurable on the simulated patient"
    differences: list[str] = []
    for sign_id, duck in on_duckdb.items():
        spark = on_spark[sign_id]
        for key in ("status", "n", "reason", "value", "breakdowns"):
            _close(duck[key], spark[key], f"{sign_id}.{key}", differences)
    assert not differences, "\n".join(differences[:40])
