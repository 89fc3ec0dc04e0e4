"""The peak resident memory of a benchmark's child process, read by the child itself.

``ru_maxrss`` of a waited-for child is not its own peak on Linux: at ``exec`` the kernel carries
the parent's high-water mark into the child's (checked: a parent that had touched 2 GiB spawns
``python -c pass``, whose ``ru_maxrss`` reads 2.0 GiB while its ``VmHWM`` is 13 MB). A benchmark
whose parent generated its data in-process (benchmarks/large_examination.py) therefore reported the
generator's peak as every child's. The child prints ``VmHWM`` (its own address space's high-water
mark, which ``exec`` starts afresh) with its result instead. A child that starts processes of its
own (the XES reader's two parser workers, Spark's JVMs) is measured by ``TreePeak``, which samples the
resident memory of the whole process tree; the peak reported is the larger of the two.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

#: appended to a child's code: ``_peak_gib()`` is the process's own peak resident memory in GiB
CHILD_CODE = """
def _peak_gib():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / (1 << 20)
"""


def peak_gib(result: dict[str, Any], usage: Any) -> float:
    """The child's own peak (``peak_gib`` it reported), else ``ru_maxrss`` (an upper bound)."""
    own = result.get("peak_gib")
    return float(own) if own is not None else usage.ru_maxrss / (1 << 20)


def tree_rss(roots: list[int]) -> int:
    """Resident bytes of ``roots`` and all their descendants, now."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    members, frontier = set(roots), list(roots)
    while frontier:
        pid = frontier.pop()
        for child, ppid in parent.items():
            if ppid == pid and child not in members:
                members.add(child)
                frontier.append(child)
    total = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for pid in members:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


class TreePeak:
    """The largest resident memory of a process tree, sampled every ``every`` seconds while the
    block runs (``with TreePeak([pid]) as peak: …``; then ``peak.gib``)."""

    def __init__(self, roots: list[int], every: float = 0.5) -> None:
        self.roots, self.every, self.bytes = roots, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.bytes = max(self.bytes, tree_rss(self.roots))
            self._stop.wait(self.every)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def gib(self) -> float:
        return self.bytes / (1 << 30)
