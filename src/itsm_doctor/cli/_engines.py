"""Start the query engine a command asked for, with its noise kept out of the terminal.

Spark runs in a JVM that PySpark starts as a child process: it inherits the process's
standard error and writes its start-up warnings there (log4j profile, native-hadoop
library, default log level) before any Python-side log level applies. Starting the session
with file descriptor 2 pointed at a log file sends those lines, and everything the JVM
writes later, to that file; Python's own standard error is restored at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["start_engine"]


@contextmanager
def _stderr_to(log: Path) -> Iterator[None]:
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with log.open("ab") as fh:
            os.dup2(fh.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def start_engine(engine: str, *, log: Path) -> None:
    """Start ``engine`` now (Spark: its shared session, the JVM's output going to ``log``);
    DuckDB needs no start."""
    if engine != "spark":
        return
    from itsm_doctor.engine import spark_session

    with _stderr_to(log):
        spark_session()
