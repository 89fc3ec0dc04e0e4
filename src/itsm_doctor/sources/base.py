"""What every source reader builds on: the intake session.

A reader never loops over rows in Python. It asks the session to load each export
file into DuckDB as text (``load``), marks the rows it rejects with a reason
(``quarantine_where``), and emits canonical rows with SQL (``emit``; events that come
one per source row with ``emit_events_by_row``, which stages only their core). The session
keeps the per-file accounting — rows read, accepted, quarantined and why — so that
no row is ever lost silently.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from itsm_doctor.records.schema import TABLES, duckdb_columns
from itsm_doctor.sources.files import (
    SEPARATORS,
    FileRefused,
    cell_text,
    check_gzip,
    check_regular,
    decode_head,
    detect_encoding,
    excel_sep_line,
    header_name,
    is_gzip,
    layout_hint,
    lf_copy,
    max_fields,
    read_sheet,
    sniff_separator,
    utf16_without_bom,
)

__all__ = [
    "EVENT_CORE",
    "FileReport",
    "IntakeError",
    "IntakeSession",
    "KeyedEmission",
    "RawTable",
    "Source",
    "SourceOptions",
    "TicketRowEvents",
    "fingerprint",
    "quote_ident",
    "sql_str",
    "strptime_first",
]

_SNIFF_BYTES = 1 << 20
# The event columns derive() works with. An emission keyed by row keeps only these (and the
# row key) in ``stage_event``; the rest stay in the emitting relation until the write.
EVENT_CORE = (
    "event_id",
    "ticket_id",
    "seq",
    "ts",
    "kind",
    "from_status",
    "to_status",
    "pending_reason",
    "from_group_id",
    "to_group_id",
    "from_agent_id",
    "to_agent_id",
)
# records/text.py's FORMULA_PATTERN in the regular expressions DuckDB knows (no look-ahead)
_FORMULA_SQL = (
    "(regexp_matches({c}, '^[\\t\\r]*[=@]') OR (regexp_matches({c}, '^[\\t\\r]*[+-]') "
    "AND NOT regexp_matches({c}, '^[\\t\\r]*[+-][0-9 .,eE]*$')))"
)
# the widest header taken in (the other expansion limits are in sources/files.py)
_MAX_COLUMNS = 4096


class IntakeError(Exception):
    """Input that cannot be taken in at all; the message names file, row and column."""

    def __init__(
        self, message: str, *, file: str | None = None, row: int | None = None, column: str | None = None
    ) -> None:
        where = []
        if file:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if column:
            where.append(f"column {column!r}")
        self.file, self.row, self.column = file, row, column
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


@dataclass(frozen=True, kw_only=True)
class SourceOptions:
    """What the user told intake beyond the files."""

    mapping: Path | None = None
    timezone: str | None = None


@dataclass(frozen=True, kw_only=True)
class Source:
    """A reader from one system's exports to canonical records."""

    name: str
    summary: str
    recognises: Callable[[Path], bool]
    read: Callable[[IntakeSession, Sequence[Path], SourceOptions], None]


@dataclass(frozen=True)
class KeyedEmission:
    """Events emitted one per source row: ``stage_event`` holds their core columns (with
    ``_emission`` = ``index``), ``sql`` yields them whole again when the events are written."""

    index: int
    sql: str
    params: tuple[object, ...]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class TicketRowEvents:
    """The events each staged ticket row implies by its own times (a list export's opened,
    resolved and closed times): per item, the ticket's time column, the event's kind and the
    status it reaches; the items' order breaks a tie of times. ``files`` are the keys of the
    files whose tickets imply them."""

    items: tuple[tuple[str, str, str], ...]
    origin: str
    files: tuple[str, ...]

    def events_sql(self) -> str:
        """Over a staged ticket row: its events as a list of structs (ts, seq, kind, to_status), in
        the items' order; ``seq`` numbers the items, ``ts`` is NULL where the row lacks the time.
        ``ts`` and ``seq`` come first, so sorting the list sorts by time, then by item."""
        return (
            "["
            + ", ".join(
                f"{{'ts': {quote_ident(column)}, 'seq': {n}, 'kind': {sql_str(kind)}, 'to_status': {sql_str(status)}}}"
                for n, (column, kind, status) in enumerate(self.items, start=1)
            )
            + "]"
        )


@dataclass(kw_only=True)
class FileReport:
    """The accounting of one input file."""

    file: str
    source: str
    fingerprint: str
    rows_read: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the rows counted as still accepted once quarantine was final (None: the reader loaded
    # no text table for the file, and accepted is read - quarantined)
    accepted_counted: int | None = None

    @property
    def rows_accepted(self) -> int:
        return self.rows_read - self.rows_quarantined if self.accepted_counted is None else self.accepted_counted

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "source": self.source,
            "fingerprint": self.fingerprint,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_quarantined": self.rows_quarantined,
            "reasons": dict(sorted(self.reasons.items())),
            "examples": self.examples,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class RawTable:
    """An export file loaded into DuckDB: every cell text, plus ``_row`` (the row's line in the file).

    Columns are stored positionally as ``c0, c1, …`` so that repeated, empty or odd
    header names survive; ``col`` and ``cols`` translate header names to identifiers.
    """

    name: str
    file: str
    header: tuple[str, ...]
    # the columns a reader asked for (by position): the rest are named in a note, as dropped
    read: set[int] = field(default_factory=set, compare=False, hash=False)
    header_line: int = 1  # the header's line in the file (2 after Excel's "sep=" line)

    def has(self, *names: str) -> bool:
        return all(self._index(n) is not None for n in names)

    def _index(self, name: str) -> int | None:
        wanted = _norm(name)
        for i, h in enumerate(self.header):
            if _norm(h) == wanted:
                return i
        return None

    def col(self, name: str) -> str:
        """SQL identifier of the first column named ``name`` (case and space insensitive)."""
        i = self._index(name)
        if i is None:
            raise IntakeError(f"the export has no column {name!r}", file=self.file, column=name)
        self.read.add(i)
        return f"c{i}"

    def col_or_null(self, name: str) -> str:
        i = self._index(name)
        if i is not None:
            self.read.add(i)
        return "NULL::VARCHAR" if i is None else f"c{i}"

    def cols(self, name: str) -> list[str]:
        """All columns named ``name`` (Jira repeats Comment, Watchers, …)."""
        wanted = _norm(name)
        found = [i for i, h in enumerate(self.header) if _norm(h) == wanted]
        self.read.update(found)
        return [f"c{i}" for i in found]

    @property
    def accepted(self) -> str:
        """SQL for the rows not quarantined so far."""
        return f"(SELECT * FROM {self.name} WHERE _q IS NULL)"

    def require(self, *names: str) -> None:
        missing = [n for n in names if not self.has(n)]
        if missing:
            shown = ", ".join(repr(h) for h in self.header[:12])
            hint = ""
            if len(self.header) == 1 and any(s in self.header[0] for s in SEPARATORS):
                hint = " The header is a single column: is the separator right?"
            raise IntakeError(
                f"required column(s) {', '.join(map(repr, missing))} missing; the header has {shown}.{hint}",
                file=self.file,
                row=self.header_line,
                column=missing[0],
            )


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().lower())


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_str(value: str) -> str:
    """A SQL string literal (for constants the code owns, never for data)."""
    return "'" + value.replace("'", "''") + "'"


def strptime_first(value_sql: str, formats: Sequence[str]) -> str:
    """SQL: the timestamp (no zone) of the first of ``formats`` that reads ``value_sql``, NULL if none.

    A format that fails costs more than the parse itself (BPIC 2014's ISO times behind four
    day-first formats: 1.4 s against 0.16 s per million cells), so text shaped like an ISO date
    (a dash fifth) tries the ``%Y-`` formats first and other text the others. The two kinds
    never read the same well-formed text; only a garbled one ("12-2-05 10:00:00", read by
    ``%d-%m-%Y`` and ``%Y-%m-%d`` alike) may be read by the other, as a time far outside any
    plausible window either way."""
    iso = [f"try_strptime({value_sql}, {sql_str(f)})" for f in formats if f.startswith("%Y-")]
    other = [f"try_strptime({value_sql}, {sql_str(f)})" for f in formats if not f.startswith("%Y-")]
    if not iso or not other:
        return f"coalesce({', '.join(iso + other)})"
    return (
        f"CASE WHEN substr({value_sql}, 5, 1) = '-' THEN coalesce({', '.join(iso + other)}) "
        f"ELSE coalesce({', '.join(other + iso)}) END"
    )


def fingerprint(path: Path) -> str:
    """SHA-256 of the file's bytes: the identity used to make intake idempotent."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _head_bytes(path: Path) -> bytes:
    """The first MiB of the file, decompressed when gzip."""
    if is_gzip(path):
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(_SNIFF_BYTES)
        except (OSError, EOFError, zlib.error) as exc:
            raise IntakeError(f"the gzip stream is damaged or truncated ({exc})", file=str(path)) from exc
    with path.open("rb") as fh:
        return fh.read(_SNIFF_BYTES)


class IntakeSession:
    """One intake run: a DuckDB connection, staging tables and the file accounting."""

    def __init__(
        self,
        *,
        con: duckdb.DuckDBPyConnection,
        progress: Callable[[str], None] | None = None,
        fingerprints: dict[str, str] | None = None,
        scratch: Path | None = None,
    ) -> None:
        self.con = con
        self._scratch = scratch  # a private folder for copies of files DuckDB cannot read as they are
        # SHA-256 per file path, when the caller hashed the files already (a 1.5 GB export takes seconds)
        self._fingerprints = fingerprints or {}
        self.files: list[FileReport] = []
        self.notes: list[str] = []
        self._raw: list[RawTable] = []
        self.keyed_events: list[KeyedEmission] = []
        self.whole_events = False  # whether emit() staged any event whole
        self._row_events: TicketRowEvents | None = None  # see emit_ticket_row_events
        self._only_row_events = True  # no event staged otherwise (and the same items for every file)
        self._row_emissions: list[tuple[str, TicketRowEvents]] = []  # not staged yet: stage_ticket_row_events
        self._kept: set[str] = set()  # raw tables a keyed emission still reads
        self._direct: set[str] = set()  # files without a text table whose rows were quarantined directly
        # each file's short key, which the staged rows hold as ``_file`` instead of its path: a
        # key fits inside DuckDB's 12-byte inline strings, a path takes 50-100 bytes on each of
        # 30 M staged rows (1.5 GB of a 3 GB intake at 10 M rows). See ``file_key``.
        self._file_keys: dict[str, str] = {}
        self._progress = progress or (lambda _msg: None)
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET preserve_insertion_order = true")  # rows keep their file order (see _load_csv)
        # each staged event's own key (_eid): derive joins the events back to their order by it.
        # Not rowid: DuckDB may compact a table's rowids once rows are deleted (quarantine), and a
        # 20 k-ticket Jira intake then lost 9 k of its events between ordering and writing them.
        # A random UUID, not a sequence: nextval hands out its numbers on one thread, which made
        # every emission of events serial (BPIC 2014 at 10 M rows: 39 s of 105 on one core); 122
        # random bits cannot repeat among billions of events, and the write counts every event
        # it joins back (run._write), so a repeat could not pass unseen
        for table in TABLES:
            cols = ", ".join(f"{quote_ident(n)} {t}" for n, t in duckdb_columns(table))
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {quote_ident('stage_' + table)} ({cols}, _file VARCHAR, _row BIGINT"
                + (", _emission INTEGER, _eid UUID DEFAULT gen_random_uuid())" if table == "event" else ")")
            )
        con.execute(
            'CREATE OR REPLACE TEMP TABLE quarantine (file VARCHAR, "row" BIGINT, "column" VARCHAR, '
            "reason VARCHAR, detail VARCHAR, record VARCHAR)"
        )

    # -- reading -----------------------------------------------------------------
    def report_for(self, file: str) -> FileReport:
        for rep in self.files:
            if rep.file == file:
                return rep
        raise KeyError(file)

    def file_key(self, file: str) -> str:
        """The key that staged rows of ``file`` (its path, as reported) hold in ``_file``. Keys
        start with a control character, so that no path is taken for a key."""
        return self._file_keys.setdefault(file, f"\x01{len(self._file_keys)}")

    def file_path(self, key: str) -> str:
        """The path of the file whose key is ``key`` (anything else: itself)."""
        return next((f for f, k in self._file_keys.items() if k == key), key)

    def file_key_sql(self, expr: str) -> str:
        """SQL turning ``expr`` (a path, or a key already) into the file's key."""
        whens = " ".join(f"WHEN {sql_str(f)} THEN {sql_str(k)}" for f, k in self._file_keys.items())
        return f"CASE {expr} {whens} ELSE {expr} END" if whens else expr

    def file_path_sql(self, expr: str) -> str:
        """SQL turning ``expr`` (a staged ``_file``: a key) back into the file's path."""
        whens = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(f)}" for f, k in self._file_keys.items())
        return f"CASE {expr} {whens} ELSE {expr} END" if whens else expr

    def add_file(self, path: Path, *, source: str) -> FileReport:
        """Account for a file about to be read (every reader's first step with it)."""
        self._progress(f"reading {path.name}")
        self.file_key(str(path))
        digest = self._fingerprints.get(str(path)) or fingerprint(path)
        rep = FileReport(file=str(path), source=source, fingerprint=digest)
        self.files.append(rep)
        return rep

    def load(
        self,
        path: Path,
        *,
        source: str,
        sep: str | None = None,
        encoding: str | None = None,
        required: Iterable[str] = (),
    ) -> RawTable:
        """Load a CSV (plain or gzip) or XLSX export as text; malformed lines are quarantined.

        A row's ``_row`` is its line in the file (the header is line 1), the one numbering
        every message and the quarantine use."""
        if not path.exists():
            raise IntakeError("no such file", file=str(path))
        refused = check_regular(path)
        if refused:
            raise IntakeError(refused, file=str(path))
        if path.stat().st_size == 0:
            raise IntakeError("the file is empty (0 bytes): nothing to take in", file=str(path))
        if is_gzip(path):
            refused = check_gzip(path)
            if refused:
                raise IntakeError(refused, file=str(path))
        rep = self.add_file(path, source=source)
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
            raw = self._load_sheet(path, rep)
        else:
            raw = self._load_csv(path, rep, sep=sep, encoding=encoding)
        try:
            raw.require(*required)
        except IntakeError as exc:
            if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
                raise
            raise IntakeError(
                str(exc).split(": ", 1)[1] + layout_hint(_head_bytes(path)),
                file=exc.file,
                row=exc.row,
                column=exc.column,
            ) from None
        self._quarantine_nul(raw)
        self._flag_formulas(raw, rep)
        return raw

    def _new_name(self) -> str:
        return f"raw_{len(self._raw)}"

    def _quarantine_nul(self, raw: RawTable) -> None:
        """Rows holding NUL characters (NUL-only lines, NUL padding of a preallocated file) are
        not text a system exported: quarantined, never turned into tickets."""
        cells = [f"c{i}" for i in range(len(raw.header))]
        if cells:
            nul = " OR ".join(f"contains({c}, chr(0))" for c in cells)
            self.quarantine_where(raw, reason="nul_bytes", condition=nul, detail="'the row holds NUL characters'")

    def _load_csv(self, path: Path, rep: FileReport, *, sep: str | None, encoding: str | None) -> RawTable:
        head = _head_bytes(path)
        if not head.strip(b"\xef\xbb\xbf \r\n\t\x00"):
            raise IntakeError("the file holds no header and no rows", file=str(path))
        if encoding is None and (utf16 := utf16_without_bom(head)):
            raise IntakeError(
                f"the file looks like {utf16.upper()} text without a byte-order mark: save it as UTF-8 "
                "(or UTF-16 with a byte-order mark), or name its encoding with `encoding:` in a --mapping file",
                file=str(path),
                row=1,
            )
        enc, note = detect_encoding(head, encoding)
        if note:
            rep.notes.append(note)
        text = decode_head(head, enc)
        first_line = text.splitlines()[0] if text else ""
        skip = 0
        if declared := excel_sep_line(first_line):
            # Excel's "sep=;" first line names the separator; the header is the next line
            skip, sep = 1, sep or declared
            rep.notes.append(f"line 1 is Excel's separator line {first_line.strip()!r}: the header is line 2")
            text = text.split("\n", 1)[1] if "\n" in text else ""
            first_line = text.splitlines()[0] if text else ""
        sep = sep or sniff_separator(first_line)
        try:
            header = next(csv.reader(io.StringIO(text), delimiter=sep))
        except (csv.Error, StopIteration) as exc:
            raise IntakeError(f"the header row cannot be read ({exc})", file=str(path), row=1 + skip) from exc
        header = [h.strip() for h in header]
        trailing = 0
        while header and not header[-1]:
            header.pop()  # exports with trailing separators (BPIC 2014) carry empty columns
            trailing += 1
        if trailing:
            rep.notes.append(f"{trailing} unnamed column(s) at the end of the header dropped (trailing separators)")
        if len(header) > _MAX_COLUMNS:
            raise IntakeError(
                f"the header has {len(header):,} columns, above the limit of {_MAX_COLUMNS:,}",
                file=str(path),
                row=1 + skip,
            )
        name = self._new_name()
        rejects = f"{name}_rejects"
        scans = f"{name}_scans"
        n_fields = len(header)
        # Rows may carry more trailing empty fields than the header keeps: read the
        # widest shape and check the surplus is empty.
        width = min(max(n_fields, max_fields(text, sep)), _MAX_COLUMNS)
        names = [f"c{i}" for i in range(width)]
        options = {
            "delim": sep,
            "header": True,
            "skip": skip,
            # the dialect is known already: no sniffing (a 10 MB cell would defeat DuckDB's sniffer)
            "auto_detect": False,
            "columns": {n: "VARCHAR" for n in names},
            "encoding": "utf-8" if enc in ("utf-8",) else enc,
            "quote": '"',
            "escape": '"',
            "null_padding": True,
            "store_rejects": True,
            "rejects_table": rejects,
            "rejects_scan": scans,
            "max_line_size": 64 << 20,
            "compression": "gzip" if is_gzip(path) else "none",
            "parallel": True,
        }
        opt_sql = ", ".join(f"{k} := ?" for k in options)
        keep = ", ".join(names[:n_fields]) if n_fields else "NULL"
        surplus = " OR ".join(f"nullif(trim({c}), '') IS NOT NULL" for c in names[n_fields:]) or "FALSE"
        beyond = f"column {n_fields + 1} (beyond the header)"
        select = (
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {keep}, "
            f"CASE WHEN {surplus} THEN 'extra_fields' END AS _q, "
            f"CASE WHEN {surplus} THEN {sql_str(beyond)} END AS _qcol, "
            "NULL::VARCHAR AS _qdetail "
            "FROM read_csv(?, {opts})"
        )
        source_file = str(path)
        try:
            try:
                self._read_csv_into(select, source_file, options, opt_sql, (rejects, scans))
            except duckdb.Error as exc:
                # One CRLF line among LF lines puts DuckDB's parser in an "invalid state":
                # read a copy with every line ending made LF (lines keep their numbers)
                if "invalid state" not in str(exc).lower() or self._scratch is None:
                    raise
                copy = lf_copy(path, self._scratch / f"{name}.csv")
                rep.notes.append("line endings mix CRLF and LF: read with every line ending as LF")
                self._read_csv_into(select, str(copy), {**options, "compression": "none"}, opt_sql, (rejects, scans))
            self._number_lines(name, rejects, n_fields=n_fields, skip=skip)
            if n_fields:
                self._strip_boms(name, rep)
        except duckdb.Error as exc:
            raise IntakeError(_duck_message(exc), file=str(path)) from exc
        # one entry per rejected line: its first error (DuckDB counts columns from 1)
        rejected = self.con.execute(
            f"SELECT arg_min(column_idx, column_idx), arg_min(error_type, column_idx), "
            f"arg_min(error_message, column_idx), any_value(csv_line), _line FROM {rejects} "
            "GROUP BY _line ORDER BY _line"
        ).fetchall()
        raw = RawTable(name=name, file=str(path), header=tuple(header), header_line=1 + skip)
        self._raw.append(raw)
        data_rows = self.con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # type: ignore[index]
        entries: list[list[object]] = []
        for column_idx, etype, msg, csv_line, line in rejected:
            column = header_name(header, column_idx - 1 if isinstance(column_idx, int) else None)
            entries.append([str(path), int(line), column, "malformed_line", f"{etype}: {msg}", csv_line])
            if etype == "UNQUOTED VALUE" and csv_line and "\n" in csv_line.rstrip("\r\n"):
                # a quote never closed swallows the lines after it: each is a row read, and
                # quarantined, not hidden inside one malformed record
                for k, text in enumerate(csv_line.rstrip("\r\n").split("\n")[1:], start=1):
                    entries.append(
                        [
                            str(path),
                            int(line) + k,
                            None,
                            "malformed_line",
                            f"inside the quote opened on line {line} and never closed",
                            text,
                        ]
                    )
        if entries:
            self.con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)", entries)
        rep.rows_read = data_rows + len(entries)
        return raw

    def _strip_boms(self, name: str, rep: FileReport) -> None:
        """Remove the byte-order marks that start data lines (exports concatenated from parts
        keep each part's mark); a first cell quoted after the mark loses its quotes too."""
        bom = "chr(65279)"
        cur = self.con.execute(
            f"""UPDATE {name} SET c0 = CASE WHEN regexp_matches(ltrim(c0, {bom}), '^"(.*)"$')
                THEN replace(ltrim(c0, {bom})[2:-2], '""', '"') ELSE ltrim(c0, {bom}) END
            WHERE starts_with(c0, {bom})"""
        )
        n = int(cur.fetchone()[0])  # type: ignore[index]
        if n:
            rep.notes.append(f"{n:,} byte-order mark(s) inside the file (parts joined into one export): removed")

    def _number_lines(self, name: str, rejects: str, *, n_fields: int, skip: int) -> None:
        """Give each accepted row (``_row``) and each rejected one (``_line`` in ``rejects``) its
        line in the file: the header is line 1 (after ``skip`` lines), and a record after
        cells holding line breaks starts that many lines further down.

        The reader keeps the file's order (preserve_insertion_order), so a row's position in
        the table gives its record number once the rejected records before it are counted;
        numbering afterwards is cheap, where row_number() OVER () would make the whole read
        single-threaded."""
        con = self.con
        con.execute(f"ALTER TABLE {name} ADD COLUMN _row BIGINT")
        con.execute(f"ALTER TABLE {rejects} ADD COLUMN _line BIGINT")
        [(n_rejected,)] = con.execute(f"SELECT count(DISTINCT line) FROM {rejects}").fetchall()
        if n_rejected:
            # DuckDB numbers a rejected record from the header (record 1); the k-th rejected
            # record R (k from 0) comes after the accepted rows at positions up to R - 2 - k
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {name}_gaps AS SELECT line - 2 - (row_number() OVER "
                f"(ORDER BY line) - 1) AS after FROM (SELECT DISTINCT line FROM {rejects})"
            )
            con.execute(
                f"UPDATE {name} SET _row = rowid + 2 + "
                f"(SELECT count(*) FROM {name}_gaps g WHERE g.after <= {name}.rowid)"
            )
        else:
            con.execute(f"UPDATE {name} SET _row = rowid + 2")
        cells = [f"c{i}" for i in range(n_fields)]
        breaks = " + ".join(f"coalesce(length({c}) - length(replace({c}, chr(10), '')), 0)" for c in cells) or "0"
        has_break = " OR ".join(f"contains({c}, chr(10))" for c in cells) or "FALSE"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name}_breaks AS "
            f"SELECT _row AS record, {breaks} AS n FROM {name} WHERE {has_break} "
            "UNION ALL SELECT line, max(length(csv_line) - length(replace(csv_line, chr(10), ''))) "
            f"FROM {rejects} GROUP BY line HAVING bool_or(contains(csv_line, chr(10)))"
        )
        [(n_breaks,)] = con.execute(f"SELECT count(*) FROM {name}_breaks").fetchall()
        shift = f"(SELECT coalesce(sum(b.n), 0) FROM {name}_breaks b WHERE b.record < {{r}})"
        if n_breaks:
            con.execute(f"UPDATE {name} SET _row = _row + {skip} + {shift.format(r=name + '._row')}")
        elif skip:
            con.execute(f"UPDATE {name} SET _row = _row + {skip}")
        con.execute(f"UPDATE {rejects} SET _line = line + {skip} + {shift.format(r=rejects + '.line')}")

    def _read_csv_into(
        self, select: str, file: str, options: dict[str, Any], opt_sql: str, rejects: tuple[str, str]
    ) -> None:
        sql = select.replace("{opts}", opt_sql)
        try:
            self.con.execute(sql, [file, *options.values()])
        except duckdb.Error as exc:
            # DuckDB's parallel scanner cannot pad short rows when a quoted cell holds a
            # line break (descriptions, comments): read such a file again, in one thread
            if "parallel scanner" not in str(exc).lower():
                raise
            for table in rejects:
                self.con.execute(f"DROP TABLE IF EXISTS {table}")
            self.con.execute(sql, [file, *{**options, "parallel": False}.values()])

    def _load_sheet(self, path: Path, rep: FileReport) -> RawTable:
        import pyarrow as pa

        try:
            rows = read_sheet(path)
        except FileRefused as exc:
            raise IntakeError(str(exc), file=str(path)) from None
        except Exception as exc:  # calamine raises its own error types
            raise IntakeError(f"the workbook cannot be read ({exc})", file=str(path)) from exc
        if not rows:
            raise IntakeError("the first sheet is empty", file=str(path))
        header = [str(h).strip() for h in rows[0]]
        while header and not header[-1]:
            header.pop()
        width = max(len(r) for r in rows)
        columns: dict[str, list[str | None]] = {f"c{i}": [] for i in range(len(header))}
        lines: list[int] = []
        extra: list[str | None] = []
        for idx, row in enumerate(rows[1:], start=2):  # the sheet's row number: the header is row 1
            cells = [cell_text(v) for v in row] + [None] * (width - len(row))
            lines.append(idx)
            for i in range(len(header)):
                columns[f"c{i}"].append(cells[i])
            extra.append("extra_fields" if any(c for c in cells[len(header) :]) else None)
        name = self._new_name()
        # every column typed as text: a column of empty cells would otherwise be of type null,
        # which DuckDB cannot cast when a row of it is quarantined
        tbl = pa.table(
            {
                "_row": pa.array(lines, type=pa.int64()),
                **{k: pa.array(v, type=pa.string()) for k, v in columns.items()},
                "_q": pa.array(extra, type=pa.string()),
            }
        )
        self.con.register(f"{name}_arrow", tbl)
        beyond = f"column {len(header) + 1} (beyond the header)"
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * EXCLUDE (_q), _q, "
            f"CASE WHEN _q IS NOT NULL THEN {sql_str(beyond)} END AS _qcol, NULL::VARCHAR AS _qdetail "
            f"FROM {name}_arrow"
        )
        self.con.unregister(f"{name}_arrow")
        rep.rows_read = len(rows) - 1
        raw = RawTable(name=name, file=str(path), header=tuple(header))
        self._raw.append(raw)
        return raw

    def stage_rows(
        self, path: Path, rep: FileReport, *, header: tuple[str, ...], rows: Iterable[Sequence[str | None]], batch: int
    ) -> RawTable:
        """Stage rows a reader parsed itself (XES events, Jira changelog entries) as a text table,
        ``batch`` rows handed to DuckDB at a time so that they never all sit in Python."""
        import numpy as np
        import pyarrow as pa

        name = self._new_name()
        cols = ", ".join(f"c{i} VARCHAR" for i in range(len(header)))
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} (_row BIGINT, {cols}, _q VARCHAR, _qcol VARCHAR, _qdetail VARCHAR)"
        )
        buffer: list[Sequence[str | None]] = []
        done = 0

        def flush() -> None:
            nonlocal done
            if not buffer:
                return
            # the rows as one array of structs, converted in one pass in C and unpacked by DuckDB:
            # a transposition (zip) and an array per column cost three times as much
            arrays = {"_row": pa.array(np.arange(done + 1, done + len(buffer) + 1, dtype=np.int64))}
            if header:
                cells = pa.struct([(f"c{i}", pa.string()) for i in range(len(header))])
                arrays["cells"] = pa.array([tuple(r) for r in buffer], type=cells)
            self.con.register(f"{name}_batch", pa.table(arrays))
            unpacked = "_row, cells.*" if header else "_row"
            self.con.execute(f"INSERT INTO {name} SELECT {unpacked}, NULL, NULL, NULL FROM {name}_batch")
            self.con.unregister(f"{name}_batch")
            done += len(buffer)
            buffer.clear()

        for row in rows:
            buffer.append(row)
            if len(buffer) >= batch:
                flush()
        flush()
        rep.rows_read = done
        raw = RawTable(name=name, file=str(path), header=header)
        # the session's own list: quarantine and derive's checks then cover these rows as well
        self._raw.append(raw)
        return raw

    def stage_select(self, path: Path, rep: FileReport, *, header: tuple[str, ...], select_sql: str) -> RawTable:
        """Stage the rows of a query (columns ``_row``, then ``c0``… of ``header``, text; rows numbered
        from 1 by the reader) as a text table."""
        name = self._new_name()
        cells = ", ".join(f"c{i}::VARCHAR AS c{i}" for i in range(len(header)))
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT _row::BIGINT AS _row, {cells}, NULL::VARCHAR AS _q, "
            f"NULL::VARCHAR AS _qcol, NULL::VARCHAR AS _qdetail FROM ({select_sql})"
        )
        [(rep.rows_read,)] = self.con.execute(f"SELECT count(*) FROM {name}").fetchall()
        raw = RawTable(name=name, file=str(path), header=header)
        self._raw.append(raw)
        return raw

    def scratch_folder(self) -> Path | None:
        """A private folder for a reader's temporary files (None: the system's temporary folder)."""
        return self._scratch

    def stage_batches(
        self, path: Path, rep: FileReport, *, header: tuple[str, ...], batches: Iterable[Any]
    ) -> RawTable:
        """Stage Arrow tables a reader parsed itself (columns ``c0``… of ``header``, text) as a
        text table, numbering the rows from 1 in order. Should ``batches`` raise, the table is
        dropped: the reader may stage the file again another way."""
        import numpy as np
        import pyarrow as pa

        name = self._new_name()
        cols = ", ".join(f"c{i} VARCHAR" for i in range(len(header)))
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} (_row BIGINT, {cols}, _q VARCHAR, _qcol VARCHAR, _qdetail VARCHAR)"
        )
        select = ", ".join(f"c{i}" for i in range(len(header)))
        done = 0
        try:
            for table in batches:
                n = table.num_rows
                if not n:
                    continue
                numbered = table.append_column("_row", pa.array(np.arange(done + 1, done + n + 1, dtype=np.int64)))
                self.con.register(f"{name}_batch", numbered)
                self.con.execute(f"INSERT INTO {name} SELECT _row, {select}, NULL, NULL, NULL FROM {name}_batch")
                self.con.unregister(f"{name}_batch")
                done += n
        except BaseException:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
            raise
        rep.rows_read = done
        raw = RawTable(name=name, file=str(path), header=header)
        self._raw.append(raw)
        return raw

    def _flag_formulas(self, raw: RawTable, rep: FileReport) -> None:
        if not raw.header:
            return
        cells = [f"c{i}" for i in range(len(raw.header))]
        starts = " OR ".join(f"prefix({c}, {sql_str(ch)})" for c in cells for ch in "=+-@")
        formula = " OR ".join(_FORMULA_SQL.format(c=c) for c in cells)
        # the first-character filter spares the regular expression on almost every row
        n = self.con.execute(
            f"SELECT count(*) FROM (SELECT * FROM {raw.name} WHERE {starts}) WHERE {formula}"
        ).fetchone()[0]  # type: ignore[index]
        if n:
            rep.notes.append(
                f"{n} row(s) hold cells a spreadsheet would read as formulas (=, +, - or @ first, e.g. "
                "'=HYPERLINK(...)'): kept as plain text and "
                "never evaluated; every CSV ITSM Doctor writes (batches quarantine --csv) prefixes them with '"
            )

    # -- quarantine ----------------------------------------------------------------
    def quarantine_where(
        self, raw: RawTable, *, reason: str, condition: str, column: str | None = None, detail: str | None = None
    ) -> int:
        """Quarantine the still-accepted rows of ``raw`` matching ``condition`` (SQL over c0…)."""
        detail_sql = detail or "NULL"
        cur = self.con.execute(
            f"UPDATE {raw.name} SET _q = ?, _qcol = ?, _qdetail = {detail_sql} WHERE _q IS NULL AND ({condition})",
            [reason, column],
        )
        return int(cur.fetchone()[0])  # type: ignore[index]

    def quarantine_first(
        self, raw: RawTable, checks: Sequence[tuple[str, str, str | None, str | None]], *, rows: str | None = None
    ) -> int:
        """Quarantine the still-accepted rows of ``raw`` that fail any of ``checks`` — each
        (reason, condition, column, detail SQL), as ``quarantine_where`` takes them — in one pass:
        a row failing several is named by the first, as successive ``quarantine_where`` would.

        ``rows`` (default: the accepted rows) is the relation the conditions read, yielding
        ``_row``: e.g. the accepted rows with cleaned fields computed once. The conditions are
        evaluated as one projection (DuckDB shares their common parts there, not in a WHERE);
        only the failing rows are then marked."""
        if not checks:
            return 0
        if len(checks) == 1 and rows is None:
            reason, condition, column, detail = checks[0]
            return self.quarantine_where(raw, reason=reason, condition=condition, column=column, detail=detail)
        which = " ".join(f"WHEN ({cond}) THEN {i}" for i, (_r, cond, _c, _d) in enumerate(checks))
        reasons = " ".join(f"WHEN {i} THEN {sql_str(r)}" for i, (r, _x, _c, _d) in enumerate(checks))
        columns = " ".join(f"WHEN {i} THEN {sql_str(c)}" for i, (_r, _x, c, _d) in enumerate(checks) if c is not None)
        details = " ".join(f"WHEN {i} THEN {d}" for i, (_r, _x, _c, d) in enumerate(checks) if d is not None)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _qfirst AS SELECT _row, CASE _k {reasons} END AS reason, "
            f"{f'CASE _k {columns} END' if columns else 'NULL::VARCHAR'} AS col, "
            f"{f'CASE _k {details} END' if details else 'NULL::VARCHAR'} AS detail "
            f"FROM (SELECT *, CASE {which} END AS _k FROM {rows or raw.accepted}) WHERE _k IS NOT NULL"
        )
        cur = self.con.execute(
            f"UPDATE {raw.name} SET _q = f.reason, _qcol = f.col, _qdetail = f.detail FROM _qfirst f "
            f"WHERE {raw.name}._row = f._row AND {raw.name}._q IS NULL"
        )
        n = int(cur.fetchone()[0])  # type: ignore[index]
        self.con.execute("DROP TABLE _qfirst")
        return n

    def unparseable_check(self, raw: RawTable, *, column: str, expr: str) -> tuple[str, str, str, str]:
        """The check of ``quarantine_unparseable``, for ``quarantine_first``."""
        c = raw.col(column)
        return (
            "unparseable_time",
            f"nullif(trim({c}), '') IS NOT NULL AND ({expr}) IS NULL",
            column,
            f"'cannot read ' || {c} || ' as a time'",
        )

    def missing_check(self, raw: RawTable, *, column: str) -> tuple[str, str, str, str]:
        """The check of ``quarantine_missing``, for ``quarantine_first``."""
        c = raw.col(column)
        return "missing_key", f"nullif(trim({c}), '') IS NULL", column, "'empty'"

    def quarantine_unparseable(self, raw: RawTable, *, column: str, expr: str) -> None:
        """Quarantine rows where ``column`` is filled but ``expr`` (its parsed form) is NULL."""
        self.quarantine_first(raw, [self.unparseable_check(raw, column=column, expr=expr)])

    def quarantine_missing(self, raw: RawTable, *, column: str) -> None:
        self.quarantine_first(raw, [self.missing_check(raw, column=column)])

    def quarantine_duplicates(self, raw: RawTable) -> int:
        """Quarantine exact duplicates of an earlier row (every cell equal), naming the first.

        Rows are first grouped by a hash of all their cells; only rows whose hash repeats
        are compared cell by cell, so a file without duplicates costs one aggregation."""
        cols = ", ".join(f"c{i}" for i in range(len(raw.header)))
        if not cols:
            return 0
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _exact_dup AS
            SELECT _row, first_row FROM (
                SELECT _row, first_value(_row) OVER w AS first_row, row_number() OVER w AS n
                FROM {raw.name}
                WHERE hash({cols}) IN (SELECT h FROM (SELECT hash({cols}) AS h FROM {raw.name} GROUP BY h
                                                      HAVING count(*) > 1))
                WINDOW w AS (PARTITION BY {cols} ORDER BY _row)
            ) WHERE n > 1
            """
        )
        return self.quarantine_where(
            raw,
            reason="exact_duplicate",
            condition="_row IN (SELECT _row FROM _exact_dup)",
            detail=f"'same cells as row ' || (SELECT d.first_row FROM _exact_dup d WHERE d._row = {raw.name}._row)",
        )

    def quarantine_rows(self, *, file: str, rows_sql: str, reason: str, column: str | None, detail_sql: str) -> None:
        """Quarantine rows found after emission (``rows_sql`` yields ``_row``). A file read without
        a text table (a JSON changelog) has its rows put in the quarantine directly."""
        raws = [raw for raw in self._raw if raw.file == file]
        for raw in raws:
            self.quarantine_where(
                raw, reason=reason, column=column, condition=f"_row IN ({rows_sql})", detail=detail_sql
            )
        if not raws:
            self._direct.add(file)
            self.con.execute(
                f"INSERT INTO quarantine SELECT ?, _row, ?, ?, {detail_sql}, NULL "
                f"FROM (SELECT DISTINCT * FROM ({rows_sql})) r(_row) WHERE _row IS NOT NULL AND _row NOT IN "
                '(SELECT "row" FROM quarantine WHERE file = ?)',
                [file, column, reason, file],
            )

    def release_accepted_raw(self) -> None:
        """Once quarantine is final, keep of each loaded file only its quarantined rows.

        The accepted rows live on in the staged records; dropping their text copies frees
        the memory the windows over 10 M events need."""
        for raw in self._raw:
            # accepted rows are counted, never derived: read = accepted + quarantined is then a check
            [(n,)] = self.con.execute(f"SELECT count(*) FROM {raw.name} WHERE _q IS NULL").fetchall()
            rep = self.report_for(raw.file)
            rep.accepted_counted = (rep.accepted_counted or 0) + int(n)
            if raw.name not in self._kept:
                self.con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {raw.name} AS SELECT * FROM {raw.name} WHERE _q IS NOT NULL"
                )

    def quarantined_rows_sql(self) -> str:
        """SQL yielding (file, _row) of every source row quarantined so far; ``file`` is the
        file's key, as the staged rows hold it (``file_key``)."""
        parts = [
            f"SELECT {sql_str(self.file_key(r.file))} AS file, _row FROM {r.name} WHERE _q IS NOT NULL"
            for r in self._raw
        ]
        parts += [
            f'SELECT {sql_str(self.file_key(f))} AS file, "row" AS _row FROM quarantine WHERE file = {sql_str(f)}'
            for f in sorted(self._direct)
        ]
        return " UNION ALL ".join(parts) or "SELECT NULL::VARCHAR AS file, NULL::BIGINT AS _row WHERE FALSE"

    # -- emitting ------------------------------------------------------------------
    def emit(self, table: str, select_sql: str, params: Sequence[object] = ()) -> None:
        """Append canonical rows: ``select_sql`` names its columns like the schema (missing = NULL)."""
        if table not in TABLES:
            raise ValueError(f"unknown canonical table {table!r}")
        self.whole_events |= table == "event"
        self._only_row_events &= table != "event"
        self.con.execute(
            f"INSERT INTO {quote_ident('stage_' + table)} BY NAME {self._keyed_files(select_sql, params)}", list(params)
        )

    def _keyed_files(self, select_sql: str, params: Sequence[object]) -> str:
        """``select_sql`` with its ``_file`` (a path) replaced by the file's key."""
        described = self.con.execute(f"SELECT * FROM ({select_sql}) LIMIT 0", list(params)).description or []
        if "_file" not in [d[0] for d in described]:
            return select_sql
        return f"SELECT * REPLACE ({self.file_key_sql('_file')} AS _file) FROM ({select_sql})"

    def emit_events_by_row(self, select_sql: str, params: Sequence[object] = (), *, reads: Iterable[str] = ()) -> None:
        """Emit events of which each source row gives at most one (``_row`` unique, never NULL).

        Only the core columns are staged; the wide rest (raw text, activity, JSON) is read
        again from ``select_sql`` while the events are written, so it is never stored twice.
        What ``select_sql`` reads must outlive the intake: name the raw tables in ``reads``
        and keep staging tables undropped. The write checks the promise (one event per row)."""
        index = len(self.keyed_events)
        self._only_row_events = False
        described = self.con.execute(f"SELECT * FROM ({select_sql}) LIMIT 0", list(params)).description or []
        columns = tuple(d[0] for d in described)
        if "_row" not in columns:
            raise ValueError("an emission by row must yield _row")
        core = [
            f"{self.file_key_sql('_file')} AS _file" if c == "_file" else quote_ident(c)
            for c in (*EVENT_CORE, "_file", "_row")
            if c in columns
        ]
        self.con.execute(
            f"INSERT INTO stage_event BY NAME SELECT {', '.join(core)}, "
            f"{index}::INTEGER AS _emission FROM ({select_sql})",
            list(params),
        )
        self.keyed_events.append(KeyedEmission(index=index, sql=select_sql, params=tuple(params), columns=columns))
        self._kept.update(reads)

    def emit_ticket_row_events(
        self, file: str, items: Sequence[tuple[str, str, str]], *, origin: str = "derived"
    ) -> None:
        """Emit the events the staged ticket rows of ``file`` imply by their own times: per item
        (a time column of the ticket, the event's kind, the status it reaches) one event where
        the ticket has that time; the items' order breaks a tie of times.

        When every event of the intake came this way, with the same items, each ticket's events
        all sit in its own row, so derive orders them there instead of by a window over all
        events (``events_by_ticket_row``; 30 M events: the windows were a third of the time), and
        they are never staged as rows of their own. Otherwise derive stages them
        (``stage_ticket_row_events``) from the ticket rows as they are then."""
        times = {n for n, t in duckdb_columns("ticket") if t == "TIMESTAMPTZ"}
        for column, _kind, _status in items:
            if column not in times:
                raise ValueError(f"{column!r} is not a time of the ticket")
        if not items:
            return
        key = self.file_key(file)
        spec = TicketRowEvents(items=tuple(items), origin=origin, files=(key,))
        self._row_emissions.append((key, spec))
        if self._row_events is not None:
            if self._row_events.items != spec.items or self._row_events.origin != origin:
                self._only_row_events = False
            spec = TicketRowEvents(items=spec.items, origin=origin, files=(*self._row_events.files, key))
        self._row_events = spec
        self.whole_events = True  # once staged, they are whole events

    def stage_ticket_row_events(self) -> None:
        """Stage the events of ``emit_ticket_row_events`` as rows of ``stage_event``, for an intake
        whose other events make derive order them all by the windows. (When they are all its
        events, they stay in their ticket rows: 20-30 M staged rows were a tenth of a list
        export's intake, and every check of an event was already one of its ticket's.)"""
        for key, spec in self._row_emissions:
            self.con.execute(
                f"""
                INSERT INTO stage_event BY NAME
                SELECT ticket_id, e.ts AS ts, e.kind AS kind, e.to_status AS to_status, e.seq AS seq,
                       {sql_str(spec.origin)} AS origin, source, _file, _row
                FROM (SELECT ticket_id, source, _file, _row, unnest({spec.events_sql()}) AS e
                      FROM stage_ticket WHERE _file = ?)
                WHERE e.ts IS NOT NULL
                """,
                [key],
            )
        self._row_emissions.clear()

    @property
    def events_by_ticket_row(self) -> TicketRowEvents | None:
        """The ticket-row events, when they are all the events staged (see ``emit_ticket_row_events``)."""
        return self._row_events if self._only_row_events else None

    def finish_files(self, *, examples: int = 3) -> None:
        """Fold quarantine marks into the per-file reports and the quarantine table; name the
        columns no reader asked for (they have no canonical home and are dropped)."""
        for raw in self._raw:
            unread = [h for i, h in enumerate(raw.header) if i not in raw.read and h]
            if unread and raw.read:
                shown = ", ".join(repr(h) for h in unread[:12]) + (" …" if len(unread) > 12 else "")
                self.report_for(raw.file).notes.append(f"{len(unread)} column(s) not read (no canonical home): {shown}")
        for raw in self._raw:
            headers = ", ".join(f"{sql_str(_json_key(h, i, raw.header))}, c{i}" for i, h in enumerate(raw.header))
            record = f"json_object({headers})" if headers else "'{}'"
            self.con.execute(
                f"INSERT INTO quarantine SELECT ?, _row, _qcol, _q, _qdetail, {record}::VARCHAR "
                f"FROM {raw.name} WHERE _q IS NOT NULL",
                [raw.file],
            )
        for rep in self.files:
            rows = self.con.execute(
                'SELECT reason, count(DISTINCT "row") FROM quarantine WHERE file = ? GROUP BY reason ORDER BY reason',
                [rep.file],
            ).fetchall()
            rep.reasons = {r: int(n) for r, n in rows}
            rep.rows_quarantined = int(
                self.con.execute('SELECT count(DISTINCT "row") FROM quarantine WHERE file = ?', [rep.file]).fetchone()[
                    0
                ]  # type: ignore[index]
            )
            ex = self.con.execute(
                'SELECT "row", "column", reason, detail, record FROM (SELECT *, row_number() OVER '
                '(PARTITION BY reason ORDER BY "row") AS n FROM quarantine WHERE file = ?) WHERE n <= ? '
                'ORDER BY reason, "row"',
                [rep.file, examples],
            ).fetchall()
            rep.examples = [
                {"row": r, "column": c, "reason": why, "detail": d, "record": (rec or "")[:500]}
                for r, c, why, d, rec in ex
            ]
            if rep.accepted_counted is not None and rep.rows_read != rep.accepted_counted + rep.rows_quarantined:
                rep.notes.append(
                    f"accounting gap: {rep.rows_read:,} rows read, {rep.accepted_counted:,} accepted and "
                    f"{rep.rows_quarantined:,} quarantined — please report this file's layout"
                )


def _json_key(header: str, index: int, all_headers: tuple[str, ...]) -> str:
    key = header or f"column {index + 1}"
    if all_headers.count(header) > 1:
        key = f"{key} ({all_headers[: index + 1].count(header)})"
    return key


def _duck_message(exc: duckdb.Error) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    low = msg.lower()
    if "gzip" in low or "zlib" in low or "compress" in low:
        return f"the gzip stream is damaged or truncated ({msg})"
    if "unicode" in low or "utf" in low or "encod" in low:
        return (
            f"the text encoding is not what it seems: save the file as UTF-8, or name its encoding with "
            f"`encoding:` in a --mapping file (--source csv) ({msg})"
        )
    return msg
