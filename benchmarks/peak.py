"""The peak resident memory of a benchmark's child process, read by the child itself.

``ru_maxrss`` of a waited-for child is not its own peak on Linux: at ``exec`` the kernel carries
the parent's high-water mark into the child's (checked: a parent that had touched 2 GiB spawns
``python -c pass``, whose ``ru_maxrss`` reads 2.0 GiB while its ``VmHWM`` is 13 MB). A benchmark
whose parent generated its data in-process (benchmarks/large_examination.py) therefore reported the
generator's peak as every child's. The child prints ``VmHWM`` (its own address space's high-water
mark, which ``exec`` starts afresh) with its result instead.
"""

from __future__ import annotations

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
