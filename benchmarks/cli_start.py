"""Benchmark: how long ``itsm-doctor --help`` takes warm, and what importing the CLI loads.

    python benchmarks/cli_start.py [--runs 10] [--out docs/benchmarks.md]

One run warms the caches (bytecode, page cache); then ``--runs`` timed runs of
``python -m itsm_doctor --help`` each in a fresh process, wall clock. ``python -X importtime``
gives the cumulative import time of ``itsm_doctor.cli`` and whether it pulled a heavy library
(Ibis, DuckDB, SQLAlchemy, Alembic, SciPy, Altair, PyArrow). Target (issue 15): ≤ 0.5 s warm.
Appends a dated row to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("ibis", "duckdb", "sqlalchemy", "alembic", "scipy", "altair", "pyarrow")
SECTION = "## CLI start (benchmarks/cli_start.py)"
TARGET_S = 0.5


def _help_seconds() -> tuple[float, float]:
    """(wall clock, CPU time of the child) of one ``--help``: on a loaded machine the wall
    clock waits for a core, the CPU time says what the start itself costs."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "itsm_doctor", "--help"], check=True, stdout=subprocess.DEVNULL, env=_env())
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return wall, cpu


def _env() -> dict[str, str]:
    src = str(ROOT / "src")  # the sources of this checkout, not whatever is installed
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""), "COLUMNS": "80"}


def _import_profile() -> tuple[float, list[str]]:
    """(cumulative import time of itsm_doctor.cli in seconds, heavy top-level modules imported)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import itsm_doctor.cli"],
        check=True,
        capture_output=True,
        text=True,
        env=_env(),
    )
    cumulative, loaded = 0.0, set()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cum, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if not cum.isdigit():
            continue
        top = name.split(".")[0]
        if top in HEAVY:
            loaded.add(top)
        if name == "itsm_doctor.cli":
            cumulative = int(cum) / 1e6
    return cumulative, sorted(loaded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    _help_seconds()  # warm-up
    runs = [_help_seconds() for _ in range(args.runs)]
    times = sorted(wall for wall, _ in runs)
    median = statistics.median(times)
    cpu = statistics.median(c for _, c in runs)
    imports, heavy = _import_profile()
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    try:
        load = f"{os.getloadavg()[0]:.1f}"
    except OSError:
        load = "n/a"
    verdict = "met" if median <= TARGET_S else "not met"
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {machine} | {load} | {args.runs} | {median:.2f} s | {times[-1]:.2f} s "
        f"| {cpu:.2f} s "
        f"| {imports:.2f} s | {', '.join(heavy) or 'none'} | {verdict} |"
    )
    text = args.out.read_text(encoding="utf-8") if args.out.exists() else "# Benchmarks\n"
    if SECTION not in text:
        text = text.rstrip("\n") + (
            f"\n\n{SECTION}\n\n`itsm-doctor --help`, warm, in a fresh process each run; target ≤ {TARGET_S} s "
            "(median).\n\n"
            "| date | machine | load (1 min) | runs | median | slowest | CPU time (median) | import of itsm_doctor.cli "
            "| heavy libraries imported | ≤ 0.5 s |\n|---|---|---:|---:|---:|---:|---:|---:|---|---|\n"
        )
    head, _sep, tail = text.partition(SECTION)
    lines = tail.splitlines()
    section_end = next((i for i, ln in enumerate(lines) if ln.startswith("## ")), len(lines))
    insert_at = max(i for i, ln in enumerate(lines[:section_end]) if ln.startswith("|")) + 1
    lines.insert(insert_at, row)
    args.out.write_text(head + SECTION + "\n".join(lines) + "\n", encoding="utf-8")
    print(row)
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    raise SystemExit(main())
