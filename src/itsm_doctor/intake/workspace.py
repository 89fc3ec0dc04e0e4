"""The records folder of a workspace with the guarantees of a small database.

Layout (one patient)::

    intake.json                  manifest: the committed batches, each naming the files it wrote
    records/<table>/<name>-<i>.parquet   a batch's table: parts of at most 128 MiB (records/storage.py)
    quarantine/<batch>.parquet
    tmp/<run>/                   a writer's staging folder (removed when it ends, or by the next writer)
    .writer.lock                 held by the one writer at work (advisory ``flock``)
    .readers.lock                shared by readers; a writer deletes retired files only when no reader holds it

A batch becomes visible atomically: its files are staged under ``tmp/``, moved into
``records/`` under names no committed batch uses, and the manifest that names them
replaces the old one in one ``os.replace``. Readers open only the files the manifest names,
so they never see a half-written batch, whatever happens to the writer (kill -9 included).

Across batches a ticket is kept once (``dedupe``): of the versions of one ticket id, the
one whose records reach latest (last event, resolution, closure) is kept, the batch taken
in last on a tie; the other batches' files are rewritten without it. See ADR 0011.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb

from itsm_doctor.records.schema import TABLES
from itsm_doctor.records.storage import copy_parts

__all__ = [
    "MANIFEST",
    "WorkspaceError",
    "WorkspaceWriter",
    "batch_files",
    "check_writable",
    "committed_files",
    "load_manifest",
    "open_reader_lock",
    "remove_batch",
    "writing",
]

MANIFEST = "intake.json"
MANIFEST_SCHEMA = "itsm-doctor/workspace/1"
# the tables whose rows belong to one ticket, and the column naming it
TICKET_KEYS: dict[str, str] = {
    "ticket": "ticket_id",
    "event": "ticket_id",
    "status_interval": "ticket_id",
    "sla_record": "ticket_id",
    "survey_response": "ticket_id",
    "link": "from_ticket_id",
}


class WorkspaceError(Exception):
    """The workspace cannot be read or written as asked; the message names the file or the setting."""


def _crash_point(name: str) -> None:
    """Fault injection for the crash tests: ``ITSM_DOCTOR_CRASH_AT=name`` kills the process
    here with SIGKILL, as a power cut or ``kill -9`` would."""
    if os.environ.get("ITSM_DOCTOR_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not every platform opens folders
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_manifest(workspace: Path) -> dict[str, Any]:
    """The committed batches (an empty manifest for a new workspace)."""
    path = workspace / MANIFEST
    if not path.exists():
        return {"schema": MANIFEST_SCHEMA, "batches": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkspaceError(
            f"file {path}: the workspace manifest cannot be read ({exc}); "
            "restore it from a backup or start a new workspace"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("batches"), list):
        raise WorkspaceError(f"file {path}: not a workspace manifest (no list of batches)")
    return data


def _save_manifest(workspace: Path, manifest: dict[str, Any], *, run: str) -> None:
    path = workspace / MANIFEST
    tmp = workspace / f".{MANIFEST}.{run}"
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)  # the commit point
    _fsync_dir(workspace)


def batch_files(workspace: Path, entry: dict[str, Any]) -> dict[str, list[Path]]:
    """The record files of one committed batch, by table: the parts the manifest names (a
    single file per table in workspaces written before parts; before the manifest named its
    files, ``records/<table>/<batch>.parquet``)."""
    written = entry.get("written")
    if isinstance(written, dict):
        return {
            table: [workspace / rel for rel in ([named] if isinstance(named, str) else named)]
            for table, named in written.items()
        }
    out = {}
    for table in TABLES:
        path = workspace / "records" / table / f"{entry['batch']}.parquet"
        if path.exists():
            out[table] = [path]
    return out


def committed_files(workspace: Path) -> dict[str, list[Path]]:
    """Every committed record file, by table: what readers open."""
    out: dict[str, list[Path]] = {t: [] for t in TABLES}
    for entry in load_manifest(workspace)["batches"]:
        for table, paths in batch_files(workspace, entry).items():
            out.setdefault(table, []).extend(paths)
    return {t: sorted(files) for t, files in out.items()}


def _lock(path: Path, mode: int) -> IO[bytes]:
    fh = path.open("ab")
    try:
        fcntl.flock(fh.fileno(), mode)
    except BaseException:
        fh.close()
        raise
    return fh


def open_reader_lock(workspace: Path) -> IO[bytes] | None:
    """The readers' shared lock, held until the returned file is closed (None: not lockable)."""
    try:
        return _lock(workspace / ".readers.lock", fcntl.LOCK_SH)
    except OSError:
        return None


@dataclass
class WorkspaceWriter:
    """The one writer of a workspace, holding its lock; ``stage`` is its private folder."""

    workspace: Path
    run: str
    stage: Path

    def manifest(self) -> dict[str, Any]:
        return load_manifest(self.workspace)

    def commit(self, entry: dict[str, Any], *, files: dict[str, list[Path]], quarantine: Path | None) -> list[str]:
        """Make a staged batch visible: dedupe tickets across batches, move the files in, write
        the manifest. ``files`` holds each table's parts (in one staging folder per table).
        Returns the notes the user sees about the dedupe."""
        _crash_point("staged")
        manifest = self.manifest()
        notes, rewritten, retired = self._dedupe(manifest, entry, files)
        written: dict[str, list[str]] = {}
        for table, parts in files.items():
            written[table] = self._move_parts(table, entry["batch"], parts)
            _crash_point("moving")
        for table_entry, table, new in rewritten:
            old = batch_files(self.workspace, table_entry)
            table_entry["written"] = {t: [str(p.relative_to(self.workspace)) for p in ps] for t, ps in old.items()}
            if new is None:
                table_entry["written"].pop(table, None)
            else:
                table_entry["written"][table] = self._move_parts(table, table_entry["batch"], new)
        entry["written"] = written
        if quarantine is not None:
            qdir = self.workspace / "quarantine"
            qdir.mkdir(exist_ok=True)
            target = qdir / f"{entry['batch']}.parquet"
            os.replace(quarantine, target)
            entry["quarantine"] = str(target.relative_to(self.workspace))
        manifest["batches"].append(entry)
        for folder in {self.workspace / "records" / t for t in files} | {self.workspace / "quarantine"}:
            if folder.is_dir():
                _fsync_dir(folder)
        _crash_point("moved")
        _save_manifest(self.workspace, manifest, run=self.run)
        _crash_point("committed")
        self.collect(retired)
        return notes

    def save(self, manifest: dict[str, Any]) -> None:
        _save_manifest(self.workspace, manifest, run=self.run)

    def collect(self, retired: Sequence[Path] = ()) -> None:
        """Delete record files no committed batch names (a killed writer's, or retired ones),
        unless a reader holds the readers' lock: then the next writer deletes them."""
        try:
            guard = _lock(self.workspace / ".readers.lock", fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return
        try:
            named = {p.resolve() for files in committed_files(self.workspace).values() for p in files}
            named |= {
                (self.workspace / e["quarantine"]).resolve() for e in self.manifest()["batches"] if e.get("quarantine")
            }
            named |= {
                (self.workspace / "quarantine" / f"{e['batch']}.parquet").resolve() for e in self.manifest()["batches"]
            }
            for folder in (self.workspace / "records", self.workspace / "quarantine"):
                for path in folder.rglob("*.parquet") if folder.is_dir() else ():
                    if path.resolve() not in named:
                        path.unlink(missing_ok=True)
            for path in retired:
                if path.resolve() not in named:
                    path.unlink(missing_ok=True)
            records = self.workspace / "records"
            # empty batch folders first, then empty table folders
            for folder in sorted(records.rglob("*"), key=lambda p: -len(p.parts)) if records.is_dir() else ():
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        finally:
            guard.close()

    def _move_parts(self, table: str, batch: str, parts: list[Path]) -> list[str]:
        """Move ``parts`` to ``records/<table>/<batch>-<i>.parquet``; returns their paths relative
        to the workspace, for the manifest."""
        folder = self.workspace / "records" / table
        folder.mkdir(parents=True, exist_ok=True)
        stem = batch
        if (folder / f"{batch}.parquet").exists() or any(folder.glob(f"{batch}-*.parquet")):
            stem = f"{batch}.{self.run}"  # a rewrite of a committed batch: new names, the old parts stay for readers
        moved = []
        for i, part in enumerate(parts):
            final = folder / f"{stem}-{i}.parquet"
            os.replace(part, final)
            moved.append(str(final.relative_to(self.workspace)))
        return moved

    def _dedupe(
        self, manifest: dict[str, Any], entry: dict[str, Any], files: dict[str, list[Path]]
    ) -> tuple[list[str], list[tuple[dict[str, Any], str, list[Path] | None]], list[Path]]:
        """Keep each ticket id once across batches: the latest version wins (see the module)."""
        earlier = [(e, batch_files(self.workspace, e)) for e in manifest["batches"]]
        earlier = [(e, f) for e, f in earlier if "ticket" in f]
        if "ticket" not in files or not earlier:
            return [], [], []
        con = duckdb.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            everyone = [*earlier, (entry, files)]
            # committed batches hold each id once already: only ids of the new batch can repeat,
            # and only those are looked at further (no event of an untouched ticket is read)
            held = " UNION ALL ".join(f"SELECT ticket_id FROM {_parquet(f['ticket'])}" for _e, f in earlier)
            con.execute(
                f"CREATE TEMP TABLE dup AS SELECT DISTINCT ticket_id FROM {_parquet(files['ticket'])} "
                f"WHERE ticket_id IN ({held})"
            )
            [(n_dup,)] = con.execute("SELECT count(*) FROM dup").fetchall()
            if not n_dup:
                return [], [], []
            parts = []
            params: list[object] = []
            for pos, (e, f) in enumerate(everyone):
                reach = (
                    "greatest(t.opened_at, t.resolved_at, t.closed_at, t.cancelled_at, "
                    "(SELECT max(ev.ts) FROM ev WHERE ev.ticket_id = t.ticket_id AND ev.pos = ?))"
                )
                parts.append(
                    f"SELECT ticket_id, ? AS pos, ? AS batch, {reach} AS reach FROM {_parquet(f['ticket'])} t "
                    "WHERE ticket_id IN (SELECT ticket_id FROM dup)"
                )
                params += [pos, e["batch"], pos]
            events = [
                f"SELECT ticket_id, ts, {pos} AS pos FROM {_parquet(f['event'])} "
                "WHERE ticket_id IN (SELECT ticket_id FROM dup)"
                for pos, (_e, f) in enumerate(everyone)
                if "event" in f
            ] or ["SELECT NULL::VARCHAR AS ticket_id, NULL::TIMESTAMPTZ AS ts, NULL::INTEGER AS pos WHERE FALSE"]
            con.execute(f"CREATE TEMP TABLE ev AS {' UNION ALL '.join(events)}")
            con.execute(f"CREATE TEMP TABLE versions AS {' UNION ALL '.join(parts)}", params)
            # of each id held by more than one batch, the losers: every version but the latest
            # (reach, then position: the batch taken in last wins a tie)
            con.execute(
                """
                CREATE TEMP TABLE losers AS
                SELECT ticket_id, pos FROM (
                    SELECT ticket_id, pos, row_number() OVER (
                        PARTITION BY ticket_id ORDER BY reach DESC NULLS LAST, pos DESC) AS n,
                        count(*) OVER (PARTITION BY ticket_id) AS versions
                    FROM versions)
                WHERE versions > 1 AND n > 1
                """
            )
            lost = dict(con.execute("SELECT pos, count(DISTINCT ticket_id) FROM losers GROUP BY pos").fetchall())
            if not lost:
                return [], [], []
            notes: list[str] = []
            rewritten: list[tuple[dict[str, Any], str, list[Path] | None]] = []
            retired: list[Path] = []
            for pos, n in sorted(lost.items()):
                e, f = everyone[pos]
                for table, paths in f.items():
                    key = TICKET_KEYS.get(table)
                    if key is None:
                        continue
                    rows, new = copy_parts(
                        con,
                        f"SELECT * FROM {_parquet(paths)} WHERE {key} NOT IN "
                        "(SELECT ticket_id FROM losers WHERE pos = ?)",
                        [pos],
                        self.stage / f"dedupe-{pos}-{table}",
                    )
                    if e is entry:  # still staged: its folder is replaced by the rewritten one
                        shutil.rmtree(paths[0].parent)
                        if new:
                            os.replace(new[0].parent, paths[0].parent)
                            files[table] = [paths[0].parent / p.name for p in new]
                        else:
                            del files[table]
                    else:
                        rewritten.append((e, table, new or None))
                        retired.extend(paths)
                    e.setdefault("records", {})[table] = rows
                if e is entry:
                    notes.append(
                        f"{n:,} ticket(s) of this intake are held in a later version by an earlier batch: "
                        "that version is kept (policy: the latest version of a ticket wins)"
                    )
                else:
                    e["superseded"] = int(e.get("superseded", 0)) + n
                    notes.append(
                        f"{n:,} ticket(s) of batch {e['batch']} are replaced by their later version in this "
                        "intake (policy: the latest version of a ticket wins)"
                    )
            entry["superseded"] = int(lost.get(len(earlier), 0))
            return notes, rewritten, retired
        finally:
            con.close()


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _parquet(paths: Sequence[Path]) -> str:
    """``read_parquet`` over the given files (the paths are the workspace's own, quoted)."""
    return f"read_parquet([{', '.join(_lit(str(p)) for p in paths)}])"


def check_writable(workspace: Path) -> None:
    """Refuse, before any work, a workspace that is a file, cannot be made or written, or
    whose manifest is damaged (--workspace)."""
    if workspace.exists() and not workspace.is_dir():
        raise WorkspaceError(f"--workspace {workspace}: is a file, not a folder")
    try:
        workspace.mkdir(parents=True, exist_ok=True)
        probe = workspace / f".probe.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise WorkspaceError(f"--workspace {workspace}: cannot be written ({exc.strerror or exc})") from exc
    load_manifest(workspace)


@contextmanager
def writing(workspace: Path) -> Iterator[WorkspaceWriter]:
    """Be the one writer of ``workspace``: wait for the lock, clean what a killed writer left,
    and give a private staging folder (removed at the end, whatever happens)."""
    check_writable(workspace)
    lock = _lock(workspace / ".writer.lock", fcntl.LOCK_EX)
    try:
        tmp = workspace / "tmp"
        # the lock is ours: any staging folder left is a dead writer's
        if tmp.is_dir():
            for leftover in tmp.iterdir():
                shutil.rmtree(leftover, ignore_errors=True)
        for leftover in workspace.glob(f".{MANIFEST}.*"):
            leftover.unlink(missing_ok=True)
        run = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        stage = tmp / run
        stage.mkdir(parents=True)
        writer = WorkspaceWriter(workspace=workspace, run=run, stage=stage)
        writer.collect()
        try:
            yield writer
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            with suppress(OSError):  # another staging folder may be there: not ours to remove
                tmp.rmdir()
    finally:
        lock.close()


def remove_batch(workspace: Path, *, batch: str) -> dict[str, Any]:
    """Remove one committed batch (its records and quarantine); returns its manifest entry.

    Tickets another batch superseded in it are not brought back: take the export in again."""
    with writing(workspace) as writer:
        manifest = writer.manifest()
        matches = [e for e in manifest["batches"] if e["batch"] == batch or e["batch"].startswith(batch)]
        if not matches:
            raise WorkspaceError(f"no batch {batch!r} in {workspace / MANIFEST}; `itsm-doctor batches list` shows them")
        if len(matches) > 1:
            raise WorkspaceError(f"{batch!r} names {len(matches)} batches: give more of the id")
        entry: dict[str, Any] = matches[0]
        manifest["batches"] = [e for e in manifest["batches"] if e is not entry]
        writer.save(manifest)
        writer.collect()
        return entry
