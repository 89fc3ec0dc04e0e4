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

import contextlib
import importlib.util
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from itsm_doctor.engine import SPARK_LOG4J
from itsm_doctor.examination import examine
from itsm_doctor.signs import SIGNS

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="pyspark not installed (extra 'spark')"),
    pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime on PATH (the Spark cluster runs on it)"),
]

TICKETS = 400  # a small simulated patient: every practice's records, seconds to examine
START_TIMEOUT = 180.0  # a loaded 2-core machine starts three JVMs slowly


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    url: str  # spark://127.0.0.1:PORT
    web: str  # the master's web UI, whose /json says what the master knows
    env: dict[str, str]  # what a driver on this machine needs to reach it
    logs: Path

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.web}/json", timeout=5) as reply:
            return json.loads(reply.read())  # type: ignore[no-any-return]


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Each JVM's process group (the worker's executors with it): TERM, then KILL after 30 s."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import pyspark

    home = Path(pyspark.__file__).parent
    classpath = str(home / "jars" / "*")
    root = tmp_path_factory.mktemp("spark-cluster")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),  # workers build their executors' command line from it
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
    }
    port, web_port = _free_port(), _free_port()
    java = [shutil.which("java") or "java", "-Xmx256m", f"-Dlog4j2.configurationFile={SPARK_LOG4J.as_uri()}"]
    master = ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(web_port)]
    daemons = [[*java, "-cp", classpath, "org.apache.spark.deploy.master.Master", *master]]
    for i in (1, 2):
        (root / f"worker-{i}").mkdir()
        worker = ["--host", "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port", str(_free_port())]
        daemons.append(
            [
                *java,
                "-cp",
                classpath,
                "org.apache.spark.deploy.worker.Worker",
                f"spark://127.0.0.1:{port}",
                *worker,
                "--work-dir",
                str(root / f"worker-{i}"),
            ]
        )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i, cmd in enumerate(daemons):
            with (root / f"daemon-{i}.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
                )
        cluster = Cluster(url=f"spark://127.0.0.1:{port}", web=f"http://127.0.0.1:{web_port}", env=env, logs=root)
        deadline = time.monotonic() + START_TIMEOUT
        alive = 0
        while alive < 2:
            dead = [i for i, p in enumerate(procs) if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = "\n".join((root / f"daemon-{i}.log").read_text(errors="replace")[-2000:] for i in range(3))
                pytest.fail(
                    f"the Spark cluster did not come up (daemons {dead} exited, {alive} worker(s) alive):\n{logs}"
                )
            try:
                alive = sum(w["state"] == "ALIVE" for w in cluster.state()["workers"])
            except OSError:  # the master's web UI is not listening yet
                alive = 0
            time.sleep(1)
        yield cluster
    finally:
        _stop(procs)
        left = [p.pid for p in procs if _group_alive(p.pid)]
        assert not left, f"Spark daemons still running after teardown: process groups {left}"


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


def test_examination_on_the_cluster_equals_duckdb(spark_cluster: Cluster, tmp_path: Path) -> None:
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
        **spark_cluster.env,
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
