"""Benchmark: an examination of 30 M events on DuckDB within an 8 GiB memory limit (issue 17).

    BENCH_EVENTS=30000000 BENCH_MEMORY=8GiB python benchmarks/large_examination.py [--out docs/benchmarks.md]

A VINST-layout CSV of 10 M events (benchmarks/examination.py's generator) is written three times
with its SR numbers renamed per copy (``1-100042`` → ``2-100042``), each copy taken in as its own
batch (``BENCH_EVENTS`` / 10 M copies); the workspace then holds 30 M events in parts. The full
examination (every sign, the process maps) runs in a fresh process whose DuckDB connection has
``memory_limit`` = ``BENCH_MEMORY`` (spilling to a temp folder beyond it); reported: its time and the
process's peak resident memory (its own VmHWM, benchmarks/peak.py), which must stay within the limit.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak import CHILD_CODE, peak_gib
from reader_data import data_root

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 10_000_000

_INTAKE = (
    CHILD_CODE
    + """
import json, sys, time
from pathlib import Path
from itsm_doctor.intake.run import run_intake
csv, ws = sys.argv[1], sys.argv[2]
start = time.perf_counter()
r = run_intake([Path(csv)], source="bpic2013", workspace=Path(ws))
print(json.dumps({"seconds": time.perf_counter() - start, "events": r.records["event"], "peak_gib": _peak_gib()}))
"""
)

_EXAMINE = (
    CHILD_CODE
    + """
import json, sys, time
from pathlib import Path
from itsm_doctor.engine import open_records
from itsm_doctor.examination import build_examination
ws, limit, spill = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.perf_counter()
records = open_records(Path(ws))
records.con.raw_sql(f"SET memory_limit = '{limit}'")
records.con.raw_sql(f"SET temp_directory = '{spill}'")
exam = build_examination(records, patient="bench")
measured = sum(1 for s in exam.signs if s.value is not None)
print(json.dumps({"seconds": time.perf_counter() - start, "events": records.counts["event"],
                  "tickets": records.counts["ticket"], "signs": len(exam.signs), "measured": measured,
                  "peak_gib": _peak_gib()}))
"""
)


def _child(code: str, *args: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"step failed: {args}")
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - start
    result["peak_gib"] = peak_gib(result, usage)  # the child's own VmHWM (benchmarks/peak.py)
    return result


def _copies(base: Path, folder: Path, n: int) -> list[Path]:
    """``n`` copies of the VINST CSV ``base``, SR numbers renamed ``<k>-…`` (k = 1 … n)."""
    out = []
    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    con.execute("SET preserve_insertion_order = false")
    for k in range(1, n + 1):
        path = folder / f"vinst-{k}.csv"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            con.execute(
                'COPY (SELECT * REPLACE (? || substr("SR Number", 2) AS "SR Number") FROM '
                "read_csv(?, header := true, all_varchar := true)) TO ? (HEADER, FORMAT csv)",
                [str(k), str(base), str(tmp)],
            )
            tmp.rename(path)
        out.append(path)
    con.close()
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    events = int(os.environ.get("BENCH_EVENTS", "30000000"))
    limit = os.environ.get("BENCH_MEMORY", "8GiB")
    folder = data_root() / "large-examination"
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / "vinst-base.csv"
    if not base.exists():
        from examination import generate_vinst_csv

        generate_vinst_csv(base, events=min(events, CHUNK))
    csvs = _copies(base, folder, max(1, math.ceil(events / CHUNK)))
    ws = folder / "ws"
    intakes = []
    if not (ws / "intake.json").exists() or len(json.loads((ws / "intake.json").read_text())["batches"]) < len(csvs):
        for csv in csvs:
            r = _child(_INTAKE, str(csv), str(ws))
            print(f"intake {csv.name}: {r['events']:,} events, {r['wall']:.1f} s, {r['peak_gib']:.2f} GiB", flush=True)
            intakes.append(r)
    spill = folder / "spill"
    spill.mkdir(exist_ok=True)
    r = _child(_EXAMINE, str(ws), limit, str(spill))
    gib_limit = float(limit[:-3]) if limit.endswith("GiB") else float(limit[:-2]) * 1e9 / (1 << 30)
    within = r["peak_gib"] <= gib_limit  # type: ignore[operator]
    line = (
        f"| {r['events']:,} | {r['tickets']:,} | {limit} | {r['wall']:.1f} s | {r['peak_gib']:.2f} GiB | "
        f"{r['measured']}/{r['signs']} | {os.getloadavg()[0]:.1f} | {'met' if within else 'NOT met'} |"
    )
    print(line, flush=True)
    if not args.no_write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        intake_note = (
            "; ".join(f"{x['events']:,} events in {x['wall']:.1f} s / {x['peak_gib']:.2f} GiB" for x in intakes)
            or "workspace reused"
        )
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(
                f"\n## Examination of {r['events']:,} events within a DuckDB memory limit "
                f"(benchmarks/large_examination.py) — {stamp}\n\n"
                f"Machine: {machine}. Intake, one batch per 10 M-event copy: {intake_note}.\n\n"
                "| events | tickets | DuckDB memory_limit | full examination | peak memory | signs measured "
                "| load (1 min) | peak ≤ limit |\n|---:|---:|---|---:|---:|---|---:|---|\n"
                f"{line}\n"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
