"""``make bench``: every benchmark section, each measured in its own process, appended to
docs/benchmarks.md with the date and the machine.

Sections (add one = one entry in SECTIONS):
- ``simulation`` — the patient simulator writing 10 M events (benchmarks/simulation.py);
- ``examination`` — intake and full examination of 1 M and 10 M events, and the process-mining
  subset against hand-written DuckDB SQL and pm4py (benchmarks/examination.py);
- ``cli`` — ``itsm-doctor --help`` warm (target ≤ 0.5 s) and what importing the CLI loads
  (benchmarks/cli_start.py);
- ``readers`` — every reader layout taken in at ``BENCH_ROWS`` rows (default 1 M; issue 17's targets
  are at 10 M: ≤ 90 s, ≤ 4 GiB), time and peak memory (benchmarks/readers.py);
- ``large`` — an examination of ``BENCH_EVENTS`` events (default 30 M) on DuckDB within
  ``BENCH_MEMORY`` (default 8 GiB) (benchmarks/large_examination.py);
- ``spark`` — the examination on DuckDB, Spark local and a loopback Spark standalone cluster at
  ``BENCH_SPARK_EVENTS`` (default 1 M and 10 M events), the cluster's findings checked equal to
  DuckDB's (benchmarks/spark.py).

Heavy sections belong under ``flock /tmp/itsm-heavy.lock`` on a shared machine.

    python benchmarks/run.py [simulation] [examination] [cli] [readers] [large] [spark]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTIONS: dict[str, list[str]] = {
    "simulation": [str(HERE / "simulation.py")],
    "examination": [str(HERE / "examination.py")],
    "cli": [str(HERE / "cli_start.py")],
    "readers": [str(HERE / "readers.py")],
    "large": [str(HERE / "large_examination.py")],
    "spark": [str(HERE / "spark.py")],
}


def main(argv: list[str]) -> int:
    chosen = argv or list(SECTIONS)
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        print(f"unknown section(s) {unknown}; known: {sorted(SECTIONS)}", file=sys.stderr)
        return 2
    status = 0
    for name in chosen:
        print(f"== {name}", flush=True)
        status |= subprocess.run([sys.executable, *SECTIONS[name]], check=False).returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
