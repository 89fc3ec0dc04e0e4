"""Canonical records as Parquet, one file per table (``ticket.parquet``, ``event.parquet`` …):
what the simulator writes, and what another ITSM Doctor workspace or a data team can hand
over. Columns are matched by name; missing columns are null; unknown ones are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from itsm_doctor.records.schema import TABLES, duckdb_columns
from itsm_doctor.sources.base import IntakeError, IntakeSession, Source, SourceOptions, quote_ident

__all__ = ["SOURCE"]


def _recognises(path: Path) -> bool:
    return path.suffix == ".parquet" and path.stem in TABLES


def _read(session: IntakeSession, paths: Sequence[Path], options: SourceOptions) -> None:
    for path in paths:
        table = path.stem
        if table not in TABLES:
            raise IntakeError(
                f"a canonical Parquet file is named after its table ({', '.join(TABLES)})", file=str(path)
            )
        rep = session.add_file(path, source="canonical")
        try:
            present = {
                r[0] for r in session.con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
            }
            rep.rows_read = int(session.con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()[0])  # type: ignore[index]
        except duckdb.Error as exc:
            raise IntakeError(f"not a readable Parquet file ({str(exc).splitlines()[0]})", file=str(path)) from None
        cols = ", ".join(
            f"{quote_ident(name)}::{kind} AS {quote_ident(name)}"
            if name in present
            else f"NULL::{kind} AS {quote_ident(name)}"
            for name, kind in duckdb_columns(table)
        )
        session.emit(
            table,
            f"SELECT {cols}, ? AS _file, (row_number() OVER ())::BIGINT AS _row FROM read_parquet(?)",
            [str(path), str(path)],
        )


SOURCE = Source(
    name="canonical",
    summary="canonical records as Parquet, one file per table (the simulator's output)",
    recognises=_recognises,
    read=_read,
)
