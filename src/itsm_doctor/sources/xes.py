"""XES event logs (plain or gzip), read in chunks; with a profile for logs that bend the standard.

Each ``<event>`` is one row: trace ``concept:name`` is the ticket, event ``concept:name``
the activity, ``time:timestamp`` the time (with its offset, stored in UTC),
``org:resource`` the actor, ``org:group`` the group, ``lifecycle:transition`` the
lifecycle; every other attribute is kept as JSON. The file is parsed in chunks of whole traces,
by two processes when it is large (``sources/xes_chunks.py``, ``sources/xes_parse.py``), and
loaded into DuckDB as Arrow batches, so memory does not grow with the file.

Profile: **BPIC 2013** (Volvo IT VINST incidents and problems) keeps Status in
``concept:name`` and Sub Status in ``lifecycle:transition``; it is recognised by its
``product``, ``impact`` and ``organization involved`` attributes and read exactly like the
CSV export (``sources/bpic2013.py``), so both give the same records — except the support
team's tier, which only the CSV carries (``ST Level``): groups read from the XES have no tier.

Lifecycle of other logs: an activity whose name is in the lifecycle vocabulary
(``records/vocabulary.py`` ``LIFECYCLE_ACTIVITIES``: Open, Assignment, Wait, Resolved, Closed,
Completed, Cancelled …) moves the ticket to that canonical status; ``--mapping FILE`` (a YAML
file with an ``activity_map``, as in docs/mapping.md) replaces the vocabulary. A note says which
activities were read as status moves, and when none ends a ticket.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lxml import etree

from itsm_doctor.records.vocabulary import LIFECYCLE_ACTIVITIES
from itsm_doctor.sources.base import IntakeError, IntakeSession, RawTable, Source, SourceOptions, sql_str
from itsm_doctor.sources.xes_chunks import event_batches
from itsm_doctor.sources.xes_parse import HEADER, Malformed, stream_batches

__all__ = ["SOURCE", "lifecycle_table", "load_xes", "note_lifecycle", "read_bpic2013_xes"]


def _streamed(path: Path) -> Iterator[Any]:
    """The streaming path (``xes_parse.stream_batches``), its errors named with file and line."""
    try:
        yield from stream_batches(path)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise IntakeError(f"the XML is malformed: {exc.msg}", file=str(path), row=line) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise IntakeError(f"the gzip stream is damaged or truncated ({exc})", file=str(path)) from None


def load_xes(session: IntakeSession, path: Path, *, source: str) -> RawTable:
    """Load an XES log as a text table (one row per event) with the session's accounting.

    The log is parsed in chunks of whole traces, by two processes when it is large
    (``xes_chunks``); a log that cannot be cut, or a chunk that does not parse, is read again
    whole by the streaming path, which names the line where the XML is malformed."""
    rep = session.add_file(path, source=source)
    try:
        raw = session.stage_batches(path, rep, header=HEADER, batches=event_batches(path))
    except Malformed:
        raw = session.stage_batches(path, rep, header=HEADER, batches=_streamed(path))
    if rep.rows_read == 0:
        raise IntakeError("the log holds no event", file=str(path))
    return raw


def _attr(raw: RawTable, key: str, *, trace: bool = False) -> str:
    col = raw.col("trace attributes" if trace else "attributes")
    return f"json_extract_string({col}, {sql_str('$.' + json.dumps(key))})"


def _is_bpic2013(session: IntakeSession, raw: RawTable) -> bool:
    row = session.con.execute(
        f"SELECT count(*) FILTER (WHERE {_attr(raw, 'product')} IS NOT NULL AND "
        f"{_attr(raw, 'organization involved')} IS NOT NULL) FROM (SELECT * FROM {raw.name} LIMIT 1000)"
    ).fetchone()
    return bool(row and row[0])


def _quarantine(session: IntakeSession, raw: RawTable) -> None:
    # a missing case, then an unreadable time: one pass over the events, each named by the first
    when = f"try_cast({raw.col('timestamp')} AS TIMESTAMPTZ)"
    checks = [session.missing_check(raw, column="case"), session.unparseable_check(raw, column="timestamp", expr=when)]
    session.quarantine_first(raw, checks)
    session.quarantine_duplicates(raw)


def read_bpic2013_xes(session: IntakeSession, path: Path, *, ticket_type: str) -> None:
    """A BPIC 2013 XES log, read into the same staged shape as the CSV export."""
    _bpic2013_from_raw(session, load_xes(session, path, source="bpic2013"), ticket_type=ticket_type)


def _bpic2013_from_raw(session: IntakeSession, raw: RawTable, *, ticket_type: str) -> None:
    from itsm_doctor.sources.bpic2013 import emit_bpic2013

    _quarantine(session, raw)
    c = raw.col
    staged = f"{raw.name}_staged"
    session.con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {staged} AS
        SELECT _row, trim({c("case")}) AS sr, try_cast({c("timestamp")} AS TIMESTAMPTZ) AS ts,
               {c("activity")} AS status, {c("lifecycle")} AS sub, {c("group")} AS team,
               NULL::VARCHAR AS tier_raw, {_attr(raw, "organization involved")} AS org_line,
               {c("role")} AS function_div, {_attr(raw, "impact")} AS impact_raw, {_attr(raw, "product")} AS product,
               {_attr(raw, "resource country")} AS country, {_attr(raw, "organization country")} AS owner_country,
               {c("resource")} AS owner
        FROM {raw.accepted}
        """
    )
    emit_bpic2013(session, staged, file=raw.file, ticket_type=ticket_type)


def lifecycle_table(session: IntakeSession, name: str, words: dict[str, str]) -> None:
    """A temporary table ``name`` (word, status, reason) of activity words → canonical status."""
    session.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (word VARCHAR, status VARCHAR, reason VARCHAR)")
    rows = [(w.strip().lower(), *(v.split("/", 1) if "/" in v else (v, None))) for w, v in words.items()]
    if rows:
        session.con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", rows)


def note_lifecycle(session: IntakeSession, *, events: str, words: str, mapped: bool) -> None:
    """Say which activities became status moves, and warn when none ends a ticket: then the log's
    lifecycle cannot be told and the signs that need it are n/a."""
    con = session.con
    found = con.execute(
        f"SELECT DISTINCT w.word, w.status FROM {events} e JOIN {words} w ON w.word = lower(trim(e.activity)) "
        "ORDER BY 2, 1"
    ).fetchall()
    how = "the mapping's activity_map" if mapped else "the lifecycle vocabulary (docs/records.md)"
    if found:
        shown = ", ".join(f"{w!r} → {st}" for w, st in found)
        session.notes.append(f"activities read as status moves through {how}: {shown}")
    if not any(st in ("resolved", "closed", "cancelled") for _w, st in found):
        session.notes.append(
            "no activity of the log resolves, closes or cancels a ticket: its lifecycle cannot be told, so the "
            "signs that need it (resolution time, backlog) are n/a; map the ending activities with --mapping "
            "(activity_map)"
        )


def _read_generic(session: IntakeSession, raw: RawTable, words: str) -> None:
    c = raw.col
    src = "xes"
    act = f"lower(trim({c('activity')}))"
    # one event per source row: only its core is staged, the wide columns are read again when written
    session.emit_events_by_row(
        f"""
        SELECT '{src}:' || trim({c("case")}) AS ticket_id, try_cast({c("timestamp")} AS TIMESTAMPTZ) AS ts,
               CASE w.status WHEN 'resolved' THEN 'resolve' WHEN 'closed' THEN 'close' WHEN 'cancelled' THEN 'cancel'
                    ELSE CASE WHEN w.status IS NOT NULL THEN 'status_change' ELSE 'activity' END END AS kind,
               w.status AS to_status, CASE WHEN w.status = 'pending' THEN coalesce(w.reason, 'unknown') END
                   AS pending_reason,
               {c("activity")} AS activity, {c("lifecycle")} AS lifecycle,
               CASE WHEN {c("group")} IS NOT NULL THEN '{src}:' || {c("group")} END AS to_group_id,
               CASE WHEN {c("resource")} IS NOT NULL THEN '{src}:' || {c("resource")} END AS actor_id,
               {c("attributes")} AS raw, 'activity_log' AS origin, '{src}' AS source, ? AS _file, r._row
        FROM {raw.accepted} r LEFT JOIN {words} w ON w.word = {act}
        """,
        [raw.file],
        reads=[raw.name],
    )
    session.emit(
        "ticket",
        f"""
        SELECT '{src}:' || trim({c("case")}) AS ticket_id, '{src}' AS source, trim({c("case")}) AS source_key,
               'incident' AS ticket_type, min(try_cast({c("timestamp")} AS TIMESTAMPTZ)) AS opened_at,
               any_value({c("trace attributes")}) AS raw, ? AS _file
        FROM {raw.accepted} GROUP BY trim({c("case")})
        """,
        [raw.file],
    )
    session.emit(
        "agent",
        f"""
        SELECT DISTINCT '{src}:' || {c("resource")} AS agent_id, {c("resource")} AS display_name, 'agent' AS role,
               false AS is_system, false AS is_vendor, '{src}' AS source, {c("resource")} AS source_id
        FROM {raw.accepted} WHERE {c("resource")} IS NOT NULL
        """,
    )
    session.emit(
        "group",
        f"""
        SELECT DISTINCT '{src}:' || {c("group")} AS group_id, {c("group")} AS name, 'unknown' AS kind,
               '{src}' AS source, {c("group")} AS source_id
        FROM {raw.accepted} WHERE {c("group")} IS NOT NULL
        """,
    )


def _read(session: IntakeSession, files: Sequence[Path], options: SourceOptions) -> None:
    from itsm_doctor.sources.bpic2013 import _status_table
    from itsm_doctor.sources.mapping import load_lifecycle_mapping

    mapped = options.mapping is not None
    words = load_lifecycle_mapping(options.mapping) if options.mapping is not None else LIFECYCLE_ACTIVITIES
    lifecycle_table(session, "xes_lifecycle", words)
    generic: list[RawTable] = []
    for path in files:
        raw = load_xes(session, path, source="xes")
        if _is_bpic2013(session, raw):
            _status_table(session)
            kind = "problem" if "problem" in path.name.lower() else "incident"
            _bpic2013_from_raw(session, raw, ticket_type=kind)
        else:
            _quarantine(session, raw)
            _read_generic(session, raw, "xes_lifecycle")
            generic.append(raw)
    if generic:
        events = " UNION ALL ".join(f"SELECT {r.col('activity')} AS activity FROM {r.accepted}" for r in generic)
        note_lifecycle(session, events=f"({events})", words="xes_lifecycle", mapped=mapped)


def _recognises(path: Path) -> bool:
    return path.name.lower().endswith((".xes", ".xes.gz"))


SOURCE = Source(
    name="xes", summary="XES event logs (plain or gzip); BPIC 2013 profile", recognises=_recognises, read=_read
)
