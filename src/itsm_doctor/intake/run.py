"""Intake: export files → canonical records in a workspace, with a report of every row.

Workspace layout (a folder; one patient; ``intake.workspace`` keeps it consistent)::

    intake.json                         manifest: every committed batch, its report and its files
    records/<table>/<batch>-<i>.parquet canonical records: per table and batch, parts of at most
                                        128 MiB (records/storage.py)
    quarantine/<batch>.parquet          rejected rows: file, row (the file's line), column, reason,
                                        detail, record

A batch is one ``intake`` call; its id is a fingerprint of the source name, the mapping
and the bytes of every file, so taking in the same files twice changes nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from itsm_doctor.intake.derive import derive, final_event_sql
from itsm_doctor.intake.workspace import load_manifest, writing
from itsm_doctor.records.schema import TABLES, duckdb_columns
from itsm_doctor.records.storage import copy_parts
from itsm_doctor.sources import check_mapping, get_source
from itsm_doctor.sources.base import FileReport, IntakeError, IntakeSession, SourceOptions, fingerprint, quote_ident
from itsm_doctor.sources.files import check_regular

__all__ = ["IntakeResult", "expand_paths", "intake_memory", "run_intake", "workspace_assumptions"]

SCHEMA_ID = "itsm-doctor/intake/1"


@dataclass(kw_only=True)
class IntakeResult:
    """What one intake produced: per-file accounting and rows per canonical table."""

    batch: str
    source: str
    files: list[FileReport]
    records: dict[str, int]
    workspace: Path
    reused: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def quarantine_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_ID,
            "batch": self.batch,
            "source": self.source,
            "workspace": str(self.workspace),
            "reused": self.reused,
            "intake": [f.as_json() for f in self.files],
            "records": self.records,
            "notes": self.notes,
        }


def expand_paths(paths: Sequence[Path], *, recognises: Callable[[Path], bool]) -> list[Path]:
    """Files as given; folders replaced by the files in them that the source recognises."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and recognises(f))
            if not found:
                raise IntakeError("the folder holds no file this source recognises", file=str(p))
            out.extend(found)
        elif p.exists():
            # a FIFO or a device (/dev/zero) would hang the fingerprint: refused before it
            refused = check_regular(p)
            if refused:
                raise IntakeError(refused, file=str(p))
            out.append(p)
        else:
            raise IntakeError("no such file or folder", file=str(p))
    return out


def _batch_id(source: str, digests: dict[str, str], options: SourceOptions) -> str:
    h = hashlib.sha256(source.encode())
    for digest in sorted(digests.values()):
        h.update(digest.encode())
    if options.mapping is not None:
        h.update(options.mapping.read_bytes())
    h.update((options.timezone or "").encode())
    return h.hexdigest()[:16]


def intake_memory() -> str:
    """DuckDB's memory limit for an intake: a quarter of the machine's memory, at least 2 GB and at
    most 3 GB (``ITSM_DOCTOR_INTAKE_MEMORY`` overrides it). Beyond it, intake spills to the
    workspace: bounded memory, whatever the size of the export. The 3 GB ceiling keeps a whole
    intake (DuckDB, its allocator's slack and Python) within 4 GiB of resident memory on any
    machine (issue 17); more memory saved little time (10 M events: 6 GB against 2 GB, 10-20 %)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not every platform tells
        return "2GB"
    return f"{min(max(2 << 30, total // 4), 3 << 30) >> 20}MB"


def run_intake(
    paths: Sequence[Path],
    *,
    source: str,
    workspace: Path,
    options: SourceOptions | None = None,
    progress: Callable[[str], None] | None = None,
) -> IntakeResult:
    """Read export files with the named source into the workspace's records.

    The batch is staged, then committed with its manifest entry in one step (see
    ``intake.workspace``): an intake that fails or is killed leaves the workspace as it was."""
    options = options or SourceOptions()
    reader = get_source(source)
    if options.mapping is not None:
        check_mapping(source=source, path=options.mapping)  # a bad mapping is refused before any file is read
    files = expand_paths(paths, recognises=reader.recognises)
    digests = {str(f): fingerprint(f) for f in files}
    batch = _batch_id(source, digests, options)
    say = progress or (lambda _m: None)
    with writing(workspace) as writer:
        for entry in writer.manifest()["batches"]:
            if entry["batch"] == batch:
                return IntakeResult(
                    batch=batch,
                    source=source,
                    files=[_report_from_json(f) for f in entry["intake"]],
                    records=entry["records"],
                    workspace=workspace,
                    reused=True,
                    notes=[
                        "these files were taken in before (same content): records unchanged",
                        *entry.get("notes", []),
                    ],
                )
        con = duckdb.connect(str(writer.stage / "intake.duckdb"))
        try:
            con.execute(f"SET temp_directory = '{writer.stage / 'spill'}'")
            # large exports spill to the workspace instead of growing in RAM
            con.execute(f"SET memory_limit = '{os.environ.get('ITSM_DOCTOR_INTAKE_MEMORY') or intake_memory()}'")
            session = IntakeSession(con=con, progress=say, fingerprints=digests, scratch=writer.stage)
            try:
                reader.read(session, files, options)
            except RecursionError:
                # JSON or XML nested deeper than a parser recurses (e.g. 100,000 brackets)
                where = session.files[-1].file if session.files else None
                raise IntakeError("the file nests deeper than intake can read: not an export", file=where) from None
            except (AttributeError, TypeError, KeyError) as exc:
                # a JSON or XML document of another shape than the source's (a list where an
                # object is expected…); --debug shows where the reader stopped
                where = session.files[-1].file if session.files else None
                raise IntakeError(
                    f"the file's structure is not a {source} export ({type(exc).__name__}: {exc}); is --source right?",
                    file=where,
                ) from exc
            say("checking and deriving records")
            derive(session)
            session.finish_files()
            say("writing records")
            records, staged, quarantine = _write(session, writer.stage)
        except duckdb.Error as exc:
            raise IntakeError(str(exc).splitlines()[0]) from exc
        finally:
            con.close()
        entry = {
            "batch": batch,
            "source": source,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": [{"path": f.file, "sha256": f.fingerprint} for f in session.files],
            "intake": [f.as_json() for f in session.files],
            "records": records,
            "notes": session.notes,  # what the reader assumed (clock, inferred mappings…)
        }
        say("committing the batch")
        notes = writer.commit(entry, files=staged, quarantine=quarantine)
    return IntakeResult(
        batch=batch,
        source=source,
        files=session.files,
        records=entry["records"],
        workspace=workspace,
        notes=[*session.notes, *notes],
    )


def workspace_assumptions(workspace: Path) -> list[str]:
    """What intake assumed, over every batch of the workspace (each once, in order): the
    readers' notes (clock, inferred mappings, derived events) and each file's notes, named."""
    seen: dict[str, None] = {}
    for entry in load_manifest(workspace)["batches"]:
        for note in entry.get("notes", []):
            seen.setdefault(note, None)
        for f in entry.get("intake", []):
            for note in f.get("notes", []):
                seen.setdefault(f"{Path(f['file']).name}: {note}", None)
    return list(seen)


def _report_from_json(data: dict[str, Any]) -> FileReport:
    rep = FileReport(file=data["file"], source=data["source"], fingerprint=data["fingerprint"])
    rep.rows_read = data["rows_read"]
    rep.rows_quarantined = data["rows_quarantined"]
    rep.accepted_counted = data.get("rows_accepted")
    rep.reasons = data["reasons"]
    rep.examples = data["examples"]
    rep.notes = data["notes"]
    return rep


# Row order of each written table: the small ones sorted (ORDER BY ALL); these large ones in
# whatever order DuckDB's threads finish them (row order carries no meaning, docs/records.md:
# ``seq`` orders a ticket's events), since keeping an order serialises the write (10 M events:
# tickets sorted by id took 3.3 s to write, unsorted 1.0 s).
_UNSORTED = frozenset({"ticket", "event", "status_interval"})


def _write(session: IntakeSession, stage: Path) -> tuple[dict[str, int], dict[str, list[Path]], Path | None]:
    """Write the batch's tables and quarantine into the staging folder ``stage``: (rows per
    table, the parts of each non-empty table (``stage/<table>/part-N.parquet``, records/storage.py),
    the quarantine file if any row was quarantined)."""
    con = session.con
    counts: dict[str, int] = {}
    staged: dict[str, list[Path]] = {}
    # events last, once what the other tables held is freed: their join needs the memory
    for table in sorted(TABLES, key=lambda t: t == "event"):
        cols = ", ".join(f"{quote_ident(n)}::{t} AS {quote_ident(n)}" for n, t in duckdb_columns(table))
        sort = table not in _UNSORTED
        final = quote_ident("final_" + table)
        sql, params = final_event_sql(session) if table == "event" else (f"SELECT * FROM {final}", [])
        con.execute(f"SET preserve_insertion_order = {'true' if sort else 'false'}")
        counts[table], parts = copy_parts(
            con, f"SELECT {cols} FROM ({sql}){' ORDER BY ALL' if sort else ''}", params, stage / table
        )
        if table == "ticket":  # final_ticket is a view over these: its rows are written now
            con.execute("DROP VIEW final_ticket; DROP TABLE stage_ticket; DROP TABLE IF EXISTS _ev_facts")
        if table == "event":
            [(keys,)] = con.execute("SELECT count(*) FROM _ev_keys").fetchall()
            if counts[table] != keys:  # an emission by row repeated a _row (or left it NULL)
                raise RuntimeError(f"{counts[table]} events written for {keys} staged: a source broke its row key")
        if parts:
            staged[table] = parts
    con.execute("SET preserve_insertion_order = true")
    qn = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]  # type: ignore[index]
    quarantine = None
    if qn:
        quarantine = stage / "quarantine.parquet"
        con.execute('COPY (SELECT * FROM quarantine ORDER BY file, "row") TO ? (FORMAT parquet)', [str(quarantine)])
    return {table: counts[table] for table in TABLES}, staged, quarantine
