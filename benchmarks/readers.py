"""Benchmark: every reader taking in N rows of its layout into a workspace (issue 17).

    BENCH_ROWS=10000000 python benchmarks/readers.py [LAYOUT ...] [--out docs/benchmarks.md]

For each layout (benchmarks/reader_data.py: ServiceNow snapshot, ServiceNow list + sys_audit,
Jira CSV + changelog, the GLPI/iTop/Znuny/Zammad presets, BPIC 2014, XES) it generates the
export once (under BENCH_DATA, never in git), then runs ``itsm-doctor intake`` in a fresh process
and reports wall time and that process's peak resident memory (its own ``VmHWM``, which it
prints; benchmarks/peak.py says why not ``ru_maxrss``), with the rows read, accepted and
quarantined. The targets (issue 17): ≤ 90 s and ≤ 4 GiB at 10 M rows on the 2-core machine.

``BENCH_ROWS`` (default 1,000,000) sets the size; CI never runs this. Heavy sizes belong under
``flock /tmp/itsm-heavy.lock``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peak import CHILD_CODE, TreePeak, peak_gib
from reader_data import LAYOUTS, data_root, generate

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 90.0
TARGET_GIB = 4.0

_CHILD = (
    CHILD_CODE
    + """
import json, sys, time
from pathlib import Path
from itsm_doctor.intake.run import run_intake
paths, source, ws = json.loads(sys.argv[1])
start = time.perf_counter()
r = run_intake([Path(p) for p in paths], source=source, workspace=Path(ws))
print(json.dumps({"seconds": time.perf_counter() - start, "read": r.rows_read,
                  "quarantined": r.rows_quarantined, "accepted": sum(f.rows_accepted for f in r.files),
                  "records": r.records, "peak_gib": _peak_gib()}))
"""
)


def measure(layout: str, paths: list[Path]) -> dict[str, object]:
    """Intake of ``paths`` in a fresh process: its result, wall seconds and peak RSS (GiB)."""
    ws = data_root() / "ws" / layout
    shutil.rmtree(ws, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    arg = json.dumps([[str(p) for p in paths], LAYOUTS[layout].source, str(ws)])
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, arg], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    with TreePeak([proc.pid]) as tree:  # the child and its workers (XES parses in two processes)
        out = proc.stdout.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{layout}: intake failed (exit {proc.returncode})")
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    result["wall"] = wall
    # the child's own VmHWM, or its process tree's sampled peak when that is larger (benchmarks/peak.py)
    result["peak_gib"] = max(peak_gib(result, usage), tree.gib)
    # CPU time of the child: on a shared machine wall time tells the load as much as the work
    result["cpu"] = usage.ru_utime + usage.ru_stime
    shutil.rmtree(ws, ignore_errors=True)
    return result


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layouts", nargs="*", default=list(LAYOUTS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    rows = int(os.environ.get("BENCH_ROWS", "1000000"))
    lines = []
    for layout in args.layouts:
        t0 = time.perf_counter()
        paths, n = generate(layout, rows)
        print(f"{layout}: {n:,} rows generated in {time.perf_counter() - t0:.0f} s", flush=True)
        r = measure(layout, paths)
        load = os.getloadavg()[0]
        ok = r["wall"] <= TARGET_S and r["peak_gib"] <= TARGET_GIB  # type: ignore[operator]
        verdict = ("met" if ok else "NOT met") if rows >= 10_000_000 else "— (targets at 10 M)"
        records = r["records"]
        assert isinstance(records, dict)
        line = (
            f"| {layout} | {LAYOUTS[layout].source} | {r['read']:,} | {r['accepted']:,} | {r['quarantined']:,} | "
            f"{records.get('ticket', 0):,} | {records.get('event', 0):,} | {r['wall']:.1f} s | {r['cpu']:.1f} s | "
            f"{r['peak_gib']:.2f} GiB | {load:.1f} | {verdict} |"
        )
        print(line, flush=True)
        lines.append(line)
    if not args.no_write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        table = "\n".join(
            [
                f"\n## Readers at {rows:,} rows (benchmarks/readers.py) — {stamp}\n",
                f"Machine: {_machine()}. Intake of each layout into an empty workspace, in its own process; peak",
                "memory = the child's own VmHWM; CPU time = its user + system time (2 cores: up to twice the",
                "wall time when the machine is free). Targets (issue 17, at 10 M rows): ≤ 90 s and ≤ 4 GiB.\n",
                "| layout | source | rows read | accepted | quarantined | tickets | events | time | CPU time "
                "| peak memory | load (1 min) | ≤ 90 s and ≤ 4 GiB |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
                *lines,
                "",
            ]
        )
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
