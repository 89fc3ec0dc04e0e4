"""How a table of records is laid out on disk: Parquet parts of bounded size (docs/records.md, ADR 0021).

Every batch writes each table as parts (``part-0.parquet``, ``part-1.parquet`` … while staged,
``records/<table>/<batch>-0.parquet`` … once committed): a new part starts once one reaches
``PART_BYTES`` (128 MiB, Spark's default split size), and each part holds row groups of
``ROW_GROUP_ROWS`` rows. DuckDB and Spark both read one row group per task, so a 10 M-event batch
(a few parts) is read in parallel by either, and a small batch stays one small file, never thousands.
The workspace manifest names every part.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

__all__ = ["PART_BYTES", "ROW_GROUP_ROWS", "copy_parts"]

PART_BYTES = 128 << 20
ROW_GROUP_ROWS = 122_880  # DuckDB's own row group size: a Spark task or a DuckDB thread each
# A string column stops building its dictionary past this size: ids (ticket, event: one value per
# row) are written plain at once instead of after a dictionary as large as the row group was built
# and dropped, while statuses, groups and agents keep theirs. The writer's CPU: 2 M events -16 %,
# 2 M status intervals -33 %, the files the same size within 10 % (issue 17).
DICTIONARY_LIMIT = 10_000


def copy_parts(
    con: duckdb.DuckDBPyConnection, select_sql: str, params: Sequence[object], folder: Path
) -> tuple[int, list[Path]]:
    """Write the rows of ``select_sql`` as the parts of ``folder`` (created; must not hold parts yet).

    Returns the rows written and the parts, in order; no part when no row (the empty file DuckDB
    leaves is removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = con.execute(
        f"COPY ({select_sql}) TO ? (FORMAT parquet, FILE_SIZE_BYTES {PART_BYTES}, "
        f"ROW_GROUP_SIZE {ROW_GROUP_ROWS}, DICTIONARY_SIZE_LIMIT {DICTIONARY_LIMIT}, FILENAME_PATTERN 'part-{{i}}')",
        [*params, str(folder)],
    ).fetchone()
    rows = int(written[0]) if written else 0
    parts = sorted(folder.glob("part-*.parquet"), key=lambda p: int(p.stem.split("-", 1)[1]))
    if not rows:
        for part in parts:
            part.unlink()
        folder.rmdir()
        return 0, []
    return rows, parts
