"""Benchmark: the examination on DuckDB, on Spark local and on a Spark standalone cluster, and
whether the cluster's findings equal DuckDB's.

    BENCH_SPARK_EVENTS="1000000 10000000" python benchmarks/spark.py [--out docs/benchmarks.md]
        [--events N ...] [--only spark_local|spark_cluster]

For each size, a VINST-layout CSV of about that many events (``examination.generate_vinst_csv``,
the generator ``benchmarks/examination.py`` uses) is written under ``BENCH_DATA`` (default
/work/bench-data/spark, else build/bench-data/spark; never in git) and taken in once on DuckDB;
both are reused at the same size. Then, each in a fresh process: the examination (every sign
with its breakdowns, the roles, the period, the process maps; no diagnosis) on DuckDB, on
Spark local (``local[*]``) and on a loopback standalone cluster of two workers (one core each,
started from PySpark's own jars by ``itsm_doctor.spark_cluster``). Reported per run: the session
start, the examination, the Spark jobs it ran, and the peak resident memory of every process
the run used (the Python driver, its JVM, the cluster's daemons and executors; sampled every
0.5 s). The findings of Spark local and of the cluster are compared with DuckDB's, sign by
sign: status, n/a reason, n, value and every breakdown (floats to a relative 1e-9); the script
prints each difference and exits 1 if there is one. Heavy: run it under
``flock /tmp/itsm-heavy.lock``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

from examination import generate_vinst_csv  # noqa: E402
from peak import TreePeak  # noqa: E402

from itsm_doctor.spark_cluster import LoopbackCluster  # noqa: E402

DRIVER_MEMORY = os.environ.get("BENCH_SPARK_DRIVER_MEMORY", "4g")
EXECUTOR_MEMORY = os.environ.get("BENCH_SPARK_EXECUTOR_MEMORY", "3g")

_EXAMINE = r"""
import json, sys, time
from pathlib import Path
ws, engine, out = sys.argv[1:4]
start = time.perf_counter()
from itsm_doctor.engine import open_records, spark_session
jobs = lambda: 0
if engine == "spark":
    sc = spark_session().sparkContext
    jobs = lambda: len(sc.statusTracker().getJobIdsForGroup())
started = time.perf_counter()
from itsm_doctor.examination import build_examination
records = open_records(Path(ws), engine=engine)
exam = build_examination(records, patient="bench", diagnose=lambda signs, symptoms: ([], []))
done = time.perf_counter()
Path(out).write_text(json.dumps(exam.as_json()["signs"]))
events = records.counts["event"]
print(json.dumps({"start": started - start, "examine": done - started, "jobs": jobs(), "events": events}))
"""

_INTAKE = r"""
import sys
from pathlib import Path
from itsm_doctor.intake.run import run_intake
run_intake([Path(sys.argv[1])], source="bpic2013", workspace=Path(sys.argv[2]))
"""


def data_root() -> Path:
    env = os.environ.get("BENCH_DATA")
    if env:
        return Path(env) / "spark"
    return Path("/work/bench-data/spark") if Path("/work").is_dir() else ROOT / "build" / "bench-data" / "spark"


def _run(cmd: list[str], env: dict[str, str], extra_roots: list[int]) -> tuple[dict[str, Any], float]:
    """Run ``cmd``, sampling the memory of its process tree (and of ``extra_roots``'s) every 0.5 s."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with TreePeak([proc.pid, *extra_roots]) as peak:
        out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}… failed ({proc.returncode}):\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1]), peak.gib


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            out.append(f"{path}: keys {sorted(set(a) ^ set(b))} on one side only")
        for k in a.keys() & b.keys():
            _diff(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
            out.append(f"{path}: DuckDB {a} / Spark {b}")
    elif a != b:
        out.append(f"{path}: DuckDB {a!r} / Spark {b!r}")


def compare(duck: list[dict[str, Any]], spark: list[dict[str, Any]]) -> tuple[int, int, list[str]]:
    """(signs compared, signs with a value, differences) between two examinations' signs."""
    on_spark = {s["id"]: s for s in spark}
    diffs: list[str] = []
    if {s["id"] for s in duck} != set(on_spark):
        diffs.append(f"sign ids differ: {sorted({s['id'] for s in duck} ^ set(on_spark))}")
    for s in duck:
        other = on_spark.get(s["id"], {})
        for key in ("status", "reason", "n", "value", "breakdowns"):
            _diff(s.get(key), other.get(key), f"{s['id']}.{key}", diffs)
    return len(duck), sum(s["status"] != "n/a" for s in duck), diffs


def prepare(events: int) -> Path:
    """The workspace holding about ``events`` events (generated and taken in once)."""
    root = data_root()
    root.mkdir(parents=True, exist_ok=True)
    csv, ws = root / f"vinst-{events}.csv", root / f"ws-{events}"
    if not (ws / "records").is_dir():
        if not csv.is_file():
            print(f"generating {csv}", flush=True)
            partial = csv.with_suffix(".part")
            generate_vinst_csv(partial, events=events)
            partial.rename(csv)
        print(f"intake of {csv.name} into {ws}", flush=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        subprocess.run([sys.executable, "-c", _INTAKE, str(csv), str(ws)], env=env, check=True)
    return ws


MODES = ("spark_local", "spark_cluster")


def bench(events: int, scratch: Path, modes: tuple[str, ...] = MODES) -> dict[str, Any]:
    ws = prepare(events)
    base = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    base.pop("ITSM_DOCTOR_SPARK_MASTER", None)
    results: dict[str, Any] = {}
    signs: dict[str, list[dict[str, Any]]] = {}

    def examine(name: str, engine: str, env: dict[str, str], roots: list[int]) -> None:
        out = scratch / f"{name}-{events}.json"
        print(f"{events:,} events: {name}", flush=True)
        results[name], results[f"{name}_gib"] = _run(
            [sys.executable, "-c", _EXAMINE, str(ws), engine, str(out)], env, roots
        )
        signs[name] = json.loads(out.read_text())
        print(f"  {results[name]} peak {results[f'{name}_gib']:.2f} GiB", flush=True)

    examine("duckdb", "duckdb", base, [])
    if "spark_local" in modes:
        local = {**base, "PYSPARK_SUBMIT_ARGS": f"--driver-memory {DRIVER_MEMORY} pyspark-shell"}
        examine("spark_local", "spark", local, [])
    if "spark_cluster" in modes:
        with LoopbackCluster(scratch / f"cluster-{events}", workers=2, cores=1, memory=EXECUTOR_MEMORY) as cluster:
            submit = f"--driver-memory {DRIVER_MEMORY} --conf spark.executor.memory={EXECUTOR_MEMORY} pyspark-shell"
            master = {"ITSM_DOCTOR_SPARK_MASTER": cluster.url, "PYSPARK_SUBMIT_ARGS": submit}
            env = {**base, **cluster.driver_env(), **master}
            examine("spark_cluster", "spark", env, cluster.pids())
    for name in modes:
        results[f"{name}_compare"] = compare(signs["duckdb"], signs[name])
    return results


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def report(rows: dict[int, dict[str, Any]], when: str) -> str:
    lines = [
        f"## Spark benchmark — {when}",
        "",
        f"Machine: {_machine()}, load {os.getloadavg()[0]:.1f} at the end (shared with other work). "
        "`benchmarks/spark.py`: the full examination (every sign with breakdowns, roles, period, "
        "process maps; no diagnosis) of a VINST-layout log, each run in a fresh process; time to start "
        "the engine + examination time, Spark jobs run, peak resident memory of every process of the "
        f"run (driver {DRIVER_MEMORY}, two 1-core workers with {EXECUTOR_MEMORY} executors).",
        "",
        "| events | DuckDB | Spark local (`local[*]`) | Spark standalone, 2 workers on the loopback |",
        "| --- | --- | --- | --- |",
    ]

    def cell(r: dict[str, Any], name: str) -> str:
        if name not in r:
            return "not run"
        m = r[name]
        jobs = f", {m['jobs']} jobs" if name != "duckdb" else ""
        return f"{m['start']:.1f} s + {m['examine']:.1f} s{jobs} / {r[name + '_gib']:.2f} GiB"

    for r in rows.values():
        cells = " | ".join(cell(r, name) for name in ("duckdb", "spark_local", "spark_cluster"))
        lines.append(f"| {r['duckdb']['events']:,} | {cells} |")
    lines.append("")
    for r in rows.values():
        for name, label in (("spark_local", "Spark local"), ("spark_cluster", "the cluster")):
            if f"{name}_compare" not in r:
                continue
            n, measured, diffs = r[f"{name}_compare"]
            verdict = "equal" if not diffs else f"{len(diffs)} difference(s), e.g. {diffs[0]}"
            lines.append(
                f"- {r['duckdb']['events']:,} events, {label} against DuckDB: {n} signs ({measured} with a value), "
                f"status, n/a reasons, values and breakdowns {verdict}."
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--only",
        choices=MODES,
        action="append",
        help="run only this Spark mode beside DuckDB (repeatable; default: both)",
    )
    args = parser.parse_args(argv)
    modes = tuple(args.only) if args.only else MODES
    sizes = args.events or [int(x) for x in os.environ.get("BENCH_SPARK_EVENTS", "1000000 10000000").split()]
    rows: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="itsm-spark-bench-") as tmp:
        for events in sizes:
            rows[events] = bench(events, Path(tmp), modes)
    text = report(rows, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    print(text)
    failed = False
    for r in rows.values():
        for name in modes:
            for d in r[f"{name}_compare"][2]:
                print(f"DIFFERENCE ({name}): {d}", file=sys.stderr)
                failed = True
    if not args.no_write:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
