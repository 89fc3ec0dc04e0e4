"""Any CSV or XLSX export, read through a YAML mapping (``--source csv --mapping FILE``), and
the bundled presets for GLPI, iTop, Znuny/OTRS and Zammad list exports.

The mapping names which column holds which canonical field, how the export's status words
map to canonical statuses, its time formats, separator, encoding and null words — see
``docs/mapping.md``. Two layouts: ``tickets`` (one row per ticket; events are what its
timestamps imply) and ``events`` (one row per event, e.g. a flattened event log).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from itsm_doctor.records.vocabulary import LIFECYCLE_ACTIVITIES, closure_code_sql
from itsm_doctor.sources.base import IntakeError, IntakeSession, RawTable, Source, SourceOptions, sql_str
from itsm_doctor.sources.mapping import Mapping, load_mapping, preset
from itsm_doctor.sources.xes import note_lifecycle

__all__ = ["SOURCES"]

PRESETS = ("glpi", "itop", "znuny", "zammad")


class _Sql:
    """SQL snippets for one loaded file under one mapping."""

    def __init__(self, raw: RawTable, m: Mapping, tz: str) -> None:
        self.raw, self.m, self.tz = raw, m, tz
        self.nulls = ", ".join(sql_str(v) for v in m.null_values)

    def has(self, fld: str) -> bool:
        return fld in self.m.columns

    def v(self, fld: str) -> str:
        if fld not in self.m.columns:
            return "NULL::VARCHAR"
        c = self.raw.col(self.m.columns[fld])
        return f"CASE WHEN trim({c}) IN ({self.nulls}) THEN NULL ELSE trim({c}) END"

    def ts(self, fld: str) -> str:
        v = self.v(fld)
        tries = ", ".join(f"try_strptime({v}, {sql_str(f)})" for f in self.m.time_formats)
        naive = f"coalesce({tries + ', ' if tries else ''}try_cast({v} AS TIMESTAMP))"
        with_offset = f"CASE WHEN regexp_matches({v}, '([+-]\\d\\d:?\\d\\d|Z)$') THEN try_cast({v} AS TIMESTAMPTZ) END"
        return f"coalesce({with_offset}, timezone({sql_str(self.tz)}, {naive}))"

    def num(self, fld: str) -> str:
        mapped = " ".join(f"WHEN {sql_str(k.lower())} THEN {int(n)}" for k, n in self.m.priority_map.items())
        v = self.v(fld)
        lead = f"try_cast(regexp_extract({v}, '^\\s*(\\d+)', 1) AS INTEGER)"
        return f"CASE lower({v}) {mapped} ELSE {lead} END" if mapped else lead

    def id(self, expr: str) -> str:
        return f"CASE WHEN {expr} IS NOT NULL THEN {sql_str(self.m.name + ':')} || {expr} END"


def _values_table(session: IntakeSession, name: str, pairs: dict[str, str]) -> None:
    session.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (word VARCHAR, status VARCHAR, reason VARCHAR)")
    rows = [(k.lower(), *(v.split("/", 1) if "/" in v else (v, None))) for k, v in pairs.items()]
    if rows:
        session.con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", rows)


def _quarantine(session: IntakeSession, q: _Sql, time_field: str) -> None:
    raw, m = q.raw, q.m
    session.quarantine_missing(raw, column=m.columns["ticket_id"])
    if q.has(time_field):
        session.quarantine_unparseable(raw, column=m.columns[time_field], expr=q.ts(time_field))
    if q.has("status"):
        known = (
            "(SELECT word FROM map_status)"
            if m.status_map
            else "('new', 'assigned', 'in_progress', 'pending', 'resolved', 'closed', 'cancelled')"
        )
        session.quarantine_where(
            raw,
            reason="unknown_status",
            column=m.columns["status"],
            condition=f"{q.v('status')} IS NOT NULL AND lower({q.v('status')}) NOT IN {known}",
            detail=f"'status ' || {q.v('status')} || ' is not in the mapping''s status_map'",
        )
    session.quarantine_duplicates(raw)


def _status(q: _Sql, fld: str, table: str) -> tuple[str, str]:
    """(status, pending reason) SQL for a field through a word table (or canonical words)."""
    if not q.has(fld):
        return "NULL::VARCHAR", "NULL::VARCHAR"
    word = f"lower({q.v(fld)})"
    words = q.m.status_map if table == "map_status" else q.m.activity_map
    if not words:  # no vocabulary given: the export already writes canonical statuses
        return word, "NULL::VARCHAR"
    return f"(SELECT status FROM {table} WHERE word = {word})", f"(SELECT reason FROM {table} WHERE word = {word})"


def _type(q: _Sql) -> str:
    if q.has("ticket_type"):
        mapped = " ".join(f"WHEN {sql_str(k.lower())} THEN {sql_str(t)}" for k, t in q.m.type_map.items())
        if not mapped:
            return f"lower({q.v('ticket_type')})"
        default = sql_str(q.m.ticket_type or "incident")
        return f"coalesce(CASE lower({q.v('ticket_type')}) {mapped} END, {default})"
    return sql_str(q.m.ticket_type or "incident")


def _read_tickets(session: IntakeSession, q: _Sql) -> None:
    raw = q.raw
    _quarantine(session, q, "opened_at")
    status, reason = _status(q, "status", "map_status")
    channel = " ".join(f"WHEN {sql_str(k.lower())} THEN {sql_str(v)}" for k, v in q.m.channel_map.items())
    session.emit(
        "ticket",
        f"""
        SELECT {q.id(q.v("ticket_id"))} AS ticket_id, {sql_str(q.m.name)} AS source, {q.v("ticket_id")} AS source_key,
               {_type(q)} AS ticket_type, {q.v("title")} AS title, {q.v("category")} AS category,
               {q.id(q.v("service"))} AS service_id, {q.id(q.v("ci"))} AS ci_id,
               {f"CASE lower({q.v('channel')}) {channel} ELSE 'other' END" if channel else q.v("channel")} AS channel,
               {q.num("priority")} AS priority, {q.v("priority")} AS priority_raw, {q.num("impact")} AS impact,
               {q.num("urgency")} AS urgency, {status} AS status,
               CASE WHEN {status} = 'pending' THEN coalesce({reason}, 'unknown') END AS pending_reason,
               {q.v("status")} AS status_raw, {q.id(q.v("requester"))} AS requester_id,
               {q.id(q.v("group"))} AS assigned_group_id, {q.id(q.v("agent"))} AS assignee_id,
               {q.ts("opened_at")} AS opened_at, {q.ts("first_response_at")} AS first_response_at,
               {q.ts("resolved_at")} AS resolved_at, {q.ts("closed_at")} AS closed_at, {q.ts("due_at")} AS due_at,
               {closure_code_sql(q.v("resolution_code"))} AS resolution_code,
               {q.v("resolution_code")} AS resolution_code_raw,
               CASE lower({q.v("sla_met")}) WHEN 'true' THEN true WHEN 'yes' THEN true WHEN '1' THEN true
                    WHEN 'false' THEN false WHEN 'no' THEN false WHEN '0' THEN false END AS sla_met,
               {q.id(q.v("problem_id"))} AS problem_id, {q.id(q.v("caused_by_change_id"))} AS caused_by_change_id,
               try_cast({q.v("reopen_count")} AS INTEGER) AS reopen_count,
               try_cast({q.v("reassignment_count")} AS INTEGER) AS reassignment_count,
               ? AS _file, _row
        FROM {raw.accepted}
        """,
        [raw.file],
    )
    parts = [
        ("'created', 'new'", q.ts("opened_at")),
        ("'resolve', 'resolved'", q.ts("resolved_at")),
        ("'close', 'closed'", q.ts("closed_at")),
    ]
    _emit_derived(session, q, parts)
    _emit_groups(session, q)


def _emit_derived(session: IntakeSession, q: _Sql, parts: list[tuple[str, str]]) -> None:
    raw = q.raw
    selects = [
        f"SELECT {q.id(q.v('ticket_id'))} AS ticket_id, {ts} AS ts, {kinds.split(', ')[0]} AS kind, "
        f"{kinds.split(', ')[1]} AS to_status, 'derived' AS origin, {sql_str(q.m.name)} AS source, "
        f"? AS _file, _row FROM {raw.accepted} WHERE {ts} IS NOT NULL"
        for kinds, ts in parts
    ]
    session.emit("event", " UNION ALL ".join(selects), [raw.file] * len(parts))


def _emit_groups(session: IntakeSession, q: _Sql) -> None:
    if q.has("group"):
        session.emit(
            "group",
            f"SELECT DISTINCT {q.id(q.v('group'))} AS group_id, {q.v('group')} AS name, 'unknown' AS kind, "
            f"{sql_str(q.m.name)} AS source FROM {q.raw.accepted} WHERE {q.v('group')} IS NOT NULL",
        )


def _read_events(session: IntakeSession, q: _Sql) -> None:
    raw = q.raw
    _quarantine(session, q, "ts")
    if q.has("status"):
        status, reason = _status(q, "status", "map_status")
    elif q.m.activity_map:
        status, reason = _status(q, "activity", "map_activity")
    elif q.has("activity"):  # no word list given: the lifecycle vocabulary of common activity names
        word = f"lower({q.v('activity')})"
        status = f"(SELECT status FROM map_vocabulary WHERE word = {word})"
        reason = f"(SELECT reason FROM map_vocabulary WHERE word = {word})"
    else:
        status, reason = "NULL::VARCHAR", "NULL::VARCHAR"
    if not q.has("status") and q.has("activity"):
        note_lifecycle(
            session,
            events=f"(SELECT {q.v('activity')} AS activity FROM {raw.accepted})",
            words="map_activity" if q.m.activity_map else "map_vocabulary",
            mapped=bool(q.m.activity_map),
        )
    session.emit(
        "event",
        f"""
        SELECT {q.id(q.v("ticket_id"))} AS ticket_id, {q.ts("ts")} AS ts,
               CASE WHEN {status} IS NOT NULL THEN 'status_change' ELSE 'activity' END AS kind,
               {status} AS to_status, CASE WHEN {status} = 'pending' THEN coalesce({reason}, 'unknown') END
                   AS pending_reason,
               {q.v("activity")} AS activity, {q.id(q.v("group"))} AS to_group_id,
               {q.id(q.v("agent"))} AS to_agent_id, {q.id(q.v("actor"))} AS actor_id,
               {q.v("status") if q.has("status") else q.v("activity")} AS to_raw,
               'activity_log' AS origin, {sql_str(q.m.name)} AS source, ? AS _file, _row
        FROM {raw.accepted}
        """,
        [raw.file],
    )
    session.emit(
        "ticket",
        f"""
        SELECT {q.id(q.v("ticket_id"))} AS ticket_id, {sql_str(q.m.name)} AS source, {q.v("ticket_id")} AS source_key,
               any_value({_type(q)}) AS ticket_type, min({q.ts("ts")}) AS opened_at, ? AS _file
        FROM {raw.accepted} GROUP BY {q.v("ticket_id")}
        """,
        [raw.file],
    )
    _emit_groups(session, q)
    if q.has("agent"):
        session.emit(
            "agent",
            f"SELECT DISTINCT {q.id(q.v('agent'))} AS agent_id, {q.v('agent')} AS display_name, 'agent' AS role, "
            f"false AS is_system, false AS is_vendor, {sql_str(q.m.name)} AS source "
            f"FROM {raw.accepted} WHERE {q.v('agent')} IS NOT NULL",
        )


def _reader(name: str) -> Source:
    def read(session: IntakeSession, files: Sequence[Path], options: SourceOptions) -> None:
        if options.mapping is not None:
            mapping = load_mapping(options.mapping)
        elif name in PRESETS:
            mapping = preset(name)
        else:
            raise IntakeError("--source csv needs --mapping FILE (a YAML column mapping, see docs/mapping.md)")
        tz = options.timezone or mapping.timezone or "UTC"
        _values_table(session, "map_status", mapping.status_map)
        _values_table(session, "map_activity", mapping.activity_map)
        _values_table(session, "map_vocabulary", LIFECYCLE_ACTIVITIES)
        need = [
            mapping.columns[f]
            for f in ("ticket_id", "ts" if mapping.layout == "events" else "opened_at")
            if f in mapping.columns
        ]
        for path in files:
            raw = session.load(path, source=name, sep=mapping.separator, encoding=mapping.encoding, required=need)
            q = _Sql(raw, mapping, tz)
            _read_events(session, q) if mapping.layout == "events" else _read_tickets(session, q)
        if options.timezone is None and mapping.timezone is None:
            session.notes.append(
                "times without an offset were read as UTC (give --timezone or timezone: in the mapping)"
            )

    summary = f"{name} export through a YAML mapping" if name == "csv" else f"{name} list export (bundled preset)"
    return Source(
        name=name,
        summary=summary,
        recognises=lambda p: p.name.lower().endswith((".csv", ".csv.gz", ".xlsx", ".tsv", ".txt")),
        read=read,
    )


SOURCES: dict[str, Source] = {name: _reader(name) for name in ("csv", *PRESETS)}
