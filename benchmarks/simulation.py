"""Benchmark: the simulator writing a patient of about 10 M events (canonical Parquet).

    python benchmarks/simulation.py [--events 10000000] [--out docs/benchmarks.md]

Runs in a child process so the peak memory (VmHWM) is the simulation's own; appends a dated
row to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENTS_PER_TICKET = 4.2  # measured: 935 k events for 200 k tickets (requests and changes included)


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _simulate(tickets: int, out: str, queue: Any) -> None:
    from itsm_doctor.simulate import Scenario, simulate

    started = time.perf_counter()
    counts = simulate(Scenario(seed=7, tickets=tickets, months=12), Path(out))
    queue.put(
        {
            "seconds": time.perf_counter() - started,
            "peak_mib": _peak_mib(),
            "events": counts["event"],
            "tickets": counts["ticket"],
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    tickets = int(args.events / EVENTS_PER_TICKET)
    with tempfile.TemporaryDirectory() as tmp:
        queue: Any = mp.get_context("spawn").Queue()
        proc = mp.get_context("spawn").Process(target=_simulate, args=(tickets, tmp, queue))
        proc.start()
        result = queue.get()
        proc.join()
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine} | {result['tickets']:,} | {result['events']:,} | "
        f"{result['seconds']:.1f} s | {result['peak_mib']:,.0f} MiB |"
    )
    text = args.out.read_text(encoding="utf-8") if args.out.exists() else "# Benchmarks\n"
    if "## Simulation" not in text:
        text += (
            "\n## Simulation (benchmarks/simulation.py)\n\n"
            "| date | machine | tickets | events | time | peak memory |\n|---|---|---:|---:|---:|---:|\n"
        )
    head, _sep, tail = text.partition("## Simulation (benchmarks/simulation.py)")
    lines = tail.splitlines()
    # the section's own table: its rows end before the next section's heading
    section_end = next((i for i, ln in enumerate(lines) if ln.startswith("## ")), len(lines))
    insert_at = max(i for i, ln in enumerate(lines[:section_end]) if ln.startswith("|")) + 1
    lines.insert(insert_at, row)
    args.out.write_text(head + "## Simulation (benchmarks/simulation.py)" + "\n".join(lines) + "\n", encoding="utf-8")
    print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
