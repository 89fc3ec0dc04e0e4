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

from itsm_doctor.records.vocabulary import LIFECYCLE_ACTIVITIES, STATUSES, closure_code_sql
from itsm_doctor.sources.base import IntakeError, IntakeSession, RawTable, Source, SourceOptions, quote_ident, sql_str
from itsm_doctor.sources.mapping import Mapping, load_mapping, preset
from itsm_doctor.sources.xes import note_lifecycle

__all__ = ["SOURCES"]

PRESETS = ("glpi", "itop", "znuny", "zammad")


class _Sql:
    """SQL snippets for one loaded file under one mapping.

    ``v``/``ts``/``num`` read the raw cells (``c0``…); the ``typed`` twin reads the columns of
    ``typed_rows``, where every mapped field is cleaned once, so a field used by several
    expressions is trimmed and null-checked once per row, not once per use."""

    def __init__(self, raw: RawTable, m: Mapping, tz: str, *, optional: bool = False, typed: bool = False) -> None:
        self.raw, self.m, self.tz, self.typed = raw, m, tz, typed
        self.optional = optional  # a bundled preset: its columns may be missing from an export
        self.nulls = ", ".join(sql_str(v) for v in m.null_values)

    def has(self, fld: str) -> bool:
        """Whether the mapping names the field (and, for a preset, the export holds its column:
        a preset's column missing from the export is a field not exported, read as NULL; a
        column a user's mapping names must be there)."""
        return fld in self.m.columns and (not self.optional or self.raw.has(self.m.columns[fld]))

    def fields(self) -> list[str]:
        return [f for f in self.m.columns if self.has(f)]

    def clean(self, fld: str) -> str:
        """The field's text from its raw cell: trimmed, a null word read as NULL."""
        c = self.raw.col(self.m.columns[fld])
        return f"CASE WHEN trim({c}) IN ({self.nulls}) THEN NULL ELSE trim({c}) END"

    def v(self, fld: str) -> str:
        if not self.has(fld):
            return "NULL::VARCHAR"
        return quote_ident("f_" + fld) if self.typed else self.clean(fld)

    def typed_twin(self) -> _Sql:
        return _Sql(self.raw, self.m, self.tz, optional=self.optional, typed=True)

    def typed_rows(self, fields: Sequence[str] | None = None) -> str:
        """The accepted rows (their cells and ``_row``) with each mapped field cleaned once (``f_<field>``)."""
        wanted = self.fields() if fields is None else [f for f in fields if self.has(f)]
        cols = "".join(f", {self.clean(f)} AS {quote_ident('f_' + f)}" for f in wanted)
        return f"(SELECT *{cols} FROM {self.raw.accepted})"

    def ts(self, fld: str) -> str:
        if not self.has(fld):
            return "NULL::TIMESTAMPTZ"
        v = self.v(fld)
        formats = ", ".join(sql_str(f) for f in self.m.time_formats)
        if self.tz.upper() in ("UTC", "ETC/UTC"):
            # The formats first (none matches a time with an offset: strptime reads the whole
            # cell), each read as UTC from its microseconds (a cast to TIMESTAMPTZ goes through
            # the time zone library, a third of the cost); then DuckDB's own reading, which
            # applies an offset and reads a time without one in the session's clock, UTC.
            tries = f"make_timestamptz(epoch_us(try_strptime({v}, [{formats}]))), " if formats else ""
            return f"coalesce({tries}try_cast({v} AS TIMESTAMPTZ))"
        tries = f"try_strptime({v}, [{formats}]), " if formats else ""
        naive = f"coalesce({tries}try_cast({v} AS TIMESTAMP))"
        with_offset = f"CASE WHEN regexp_matches({v}, '([+-]\\d\\d:?\\d\\d|Z)$') THEN try_cast({v} AS TIMESTAMPTZ) END"
        return f"coalesce({with_offset}, timezone({sql_str(self.tz)}, {naive}))"

    def num(self, fld: str) -> str:
        if not self.has(fld):
            return "NULL::INTEGER"
        mapped = " ".join(f"WHEN {sql_str(k.lower())} THEN {int(n)}" for k, n in self.m.priority_map.items())
        v = self.v(fld)
        lead = f"try_cast(regexp_extract({v}, '^\\s*(\\d+)', 1) AS INTEGER)"
        return f"CASE lower({v}) {mapped} ELSE {lead} END" if mapped else lead

    def id(self, expr: str) -> str:
        return f"CASE WHEN {expr} IS NOT NULL THEN {sql_str(self.m.name + ':')} || {expr} END"


def _words(pairs: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """export word (lower-cased; the first of two spellings wins) → (status, pending reason)."""
    out: dict[str, tuple[str, str | None]] = {}
    for k, v in pairs.items():
        status, _sep, reason = v.partition("/")
        out.setdefault(k.lower(), (status, reason or None))
    return out


def _case(word: str, words: dict[str, tuple[str, str | None]], part: int) -> str:
    """CASE over the lower-cased ``word``: its status (part 0) or pending reason (part 1); a
    constant CASE costs a fraction of a lookup join per row."""
    targets = {w: t[part] for w, t in words.items()}
    whens = " ".join(f"WHEN {sql_str(w)} THEN {sql_str(t)}" for w, t in targets.items() if t is not None)
    return f"CASE {word} {whens} END" if whens else "NULL::VARCHAR"


def _values_table(session: IntakeSession, name: str, pairs: dict[str, str]) -> None:
    """The word table ``note_lifecycle`` reads (the projections use ``_case`` instead)."""
    session.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} (word VARCHAR, status VARCHAR, reason VARCHAR)")
    rows = [(w, st, reason) for w, (st, reason) in _words(pairs).items()]
    if rows:
        session.con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", rows)


def _quarantine(session: IntakeSession, q: _Sql, time_field: str) -> None:
    """Missing key, unreadable time, unknown status (the first that applies names the row),
    in one pass; then exact duplicates."""
    raw, m, t = q.raw, q.m, q.typed_twin()
    checks = [session.missing_check(raw, column=m.columns["ticket_id"])]
    if q.has(time_field):
        checks.append(session.unparseable_check(raw, column=m.columns[time_field], expr=t.ts(time_field)))
    if q.has("status"):
        known = ", ".join(sql_str(w) for w in (_words(m.status_map) if m.status_map else STATUSES))
        checks.append(
            (
                "unknown_status",
                f"{t.v('status')} IS NOT NULL AND lower({t.v('status')}) NOT IN ({known})",
                m.columns["status"],
                f"'status ' || {t.v('status')} || ' is not in the mapping''s status_map'",
            )
        )
    session.quarantine_first(raw, checks, rows=q.typed_rows(["ticket_id", time_field, "status"]))
    session.quarantine_duplicates(raw)


def _status(q: _Sql, fld: str, words: dict[str, str]) -> tuple[str, str]:
    """(status, pending reason) SQL for a field through a word list (none: canonical words)."""
    if not q.has(fld):
        return "NULL::VARCHAR", "NULL::VARCHAR"
    word = f"lower({q.v(fld)})"
    if not words:  # no vocabulary given: the export already writes canonical statuses
        return word, "NULL::VARCHAR"
    known = _words(words)
    return _case(word, known, 0), _case(word, known, 1)


def _type(q: _Sql) -> str:
    if q.has("ticket_type"):
        mapped = " ".join(f"WHEN {sql_str(k.lower())} THEN {sql_str(t)}" for k, t in q.m.type_map.items())
        if not mapped:
            return f"lower({q.v('ticket_type')})"
        default = sql_str(q.m.ticket_type or "incident")
        return f"coalesce(CASE lower({q.v('ticket_type')}) {mapped} END, {default})"
    return sql_str(q.m.ticket_type or "incident")


def _missing_note(session: IntakeSession, q: _Sql) -> None:
    absent = [f"{f} ({q.m.columns[f]!r})" for f in q.m.columns if not q.has(f)]
    if absent:
        session.report_for(q.raw.file).notes.append(
            f"{len(absent)} column(s) of the {q.m.name} mapping not in the export, read as not exported "
            f"(empty; the signs that need them are n/a): {', '.join(absent)}"
        )


def _read_tickets(session: IntakeSession, q: _Sql) -> None:
    raw = q.raw
    _missing_note(session, q)
    _quarantine(session, q, "opened_at")
    t = q.typed_twin()
    status, reason = _status(t, "status", t.m.status_map)
    words = " ".join(f"WHEN {sql_str(k.lower())} THEN {sql_str(v)}" for k, v in t.m.channel_map.items())
    # an unlisted word reads "other"; a column the export lacks stays empty
    channel = f"CASE lower({t.v('channel')}) {words} ELSE 'other' END" if words and t.has("channel") else t.v("channel")
    session.emit(
        "ticket",
        f"""
        SELECT {t.id(t.v("ticket_id"))} AS ticket_id, {sql_str(t.m.name)} AS source, {t.v("ticket_id")} AS source_key,
               {_type(t)} AS ticket_type, {t.v("title")} AS title, {t.v("category")} AS category,
               {t.id(t.v("service"))} AS service_id, {t.id(t.v("ci"))} AS ci_id,
               {channel} AS channel,
               {t.num("priority")} AS priority, {t.v("priority")} AS priority_raw, {t.num("impact")} AS impact,
               {t.num("urgency")} AS urgency, {status} AS status,
               CASE WHEN {status} = 'pending' THEN coalesce({reason}, 'unknown') END AS pending_reason,
               {t.v("status")} AS status_raw, {t.id(t.v("requester"))} AS requester_id,
               {t.id(t.v("group"))} AS assigned_group_id, {t.id(t.v("agent"))} AS assignee_id,
               {t.ts("opened_at")} AS opened_at, {t.ts("first_response_at")} AS first_response_at,
               {t.ts("resolved_at")} AS resolved_at, {t.ts("closed_at")} AS closed_at, {t.ts("due_at")} AS due_at,
               {closure_code_sql(t.v("resolution_code"))} AS resolution_code,
               {t.v("resolution_code")} AS resolution_code_raw,
               CASE lower({t.v("sla_met")}) WHEN 'true' THEN true WHEN 'yes' THEN true WHEN '1' THEN true
                    WHEN 'false' THEN false WHEN 'no' THEN false WHEN '0' THEN false END AS sla_met,
               {t.id(t.v("problem_id"))} AS problem_id, {t.id(t.v("caused_by_change_id"))} AS caused_by_change_id,
               try_cast({t.v("reopen_count")} AS INTEGER) AS reopen_count,
               try_cast({t.v("reassignment_count")} AS INTEGER) AS reassignment_count,
               ? AS _file, _row
        FROM {q.typed_rows()}
        """,
        [raw.file],
    )
    _emit_derived(session, q)
    _emit_groups(session, q)


# The events a ticket row implies: (its time column in stage_ticket, kind, status reached).
# ``seq`` keeps them in this order when two fall at the same time.
_DERIVED_EVENTS = (
    ("opened_at", "created", "new"),
    ("resolved_at", "resolve", "resolved"),
    ("closed_at", "close", "closed"),
)


def _emit_derived(session: IntakeSession, q: _Sql) -> None:
    """The created / resolve / close events of the file's tickets, from their staged rows (whose
    times are parsed already)."""
    derived = [(col, kind, status) for col, kind, status in _DERIVED_EVENTS if q.has(col)]
    session.emit_ticket_row_events(q.raw.file, derived)


def _emit_groups(session: IntakeSession, q: _Sql) -> None:
    if q.has("group"):
        t = q.typed_twin()
        session.emit(
            "group",
            f"SELECT DISTINCT {t.id(t.v('group'))} AS group_id, {t.v('group')} AS name, 'unknown' AS kind, "
            f"{sql_str(t.m.name)} AS source FROM {q.typed_rows(['group'])} WHERE {t.v('group')} IS NOT NULL",
        )


def _read_events(session: IntakeSession, q: _Sql) -> None:
    raw = q.raw
    _missing_note(session, q)
    _quarantine(session, q, "ts")
    t = q.typed_twin()
    if t.has("status"):
        status, reason = _status(t, "status", t.m.status_map)
    elif t.m.activity_map:
        status, reason = _status(t, "activity", t.m.activity_map)
    elif t.has("activity"):  # no word list given: the lifecycle vocabulary of common activity names
        status, reason = _status(t, "activity", LIFECYCLE_ACTIVITIES)
    else:
        status, reason = "NULL::VARCHAR", "NULL::VARCHAR"
    if not t.has("status") and t.has("activity"):
        note_lifecycle(
            session,
            events=f"(SELECT {q.v('activity')} AS activity FROM {raw.accepted})",
            words="map_activity" if t.m.activity_map else "map_vocabulary",
            mapped=bool(t.m.activity_map),
        )
    session.emit(
        "event",
        f"""
        SELECT {t.id(t.v("ticket_id"))} AS ticket_id, {t.ts("ts")} AS ts,
               CASE WHEN {status} IS NOT NULL THEN 'status_change' ELSE 'activity' END AS kind,
               {status} AS to_status, CASE WHEN {status} = 'pending' THEN coalesce({reason}, 'unknown') END
                   AS pending_reason,
               {t.v("activity")} AS activity, {t.id(t.v("group"))} AS to_group_id,
               {t.id(t.v("agent"))} AS to_agent_id, {t.id(t.v("actor"))} AS actor_id,
               {t.v("status") if t.has("status") else t.v("activity")} AS to_raw,
               'activity_log' AS origin, {sql_str(t.m.name)} AS source, ? AS _file, _row
        FROM {q.typed_rows()}
        """,
        [raw.file],
    )
    session.emit(
        "ticket",
        f"""
        SELECT {t.id(t.v("ticket_id"))} AS ticket_id, {sql_str(t.m.name)} AS source, {t.v("ticket_id")} AS source_key,
               any_value({_type(t)}) AS ticket_type, min({t.ts("ts")}) AS opened_at, ? AS _file
        FROM {q.typed_rows()} GROUP BY {t.v("ticket_id")}
        """,
        [raw.file],
    )
    _emit_groups(session, q)
    if t.has("agent"):
        session.emit(
            "agent",
            f"SELECT DISTINCT {t.id(t.v('agent'))} AS agent_id, {t.v('agent')} AS display_name, 'agent' AS role, "
            f"false AS is_system, false AS is_vendor, {sql_str(t.m.name)} AS source "
            f"FROM {q.typed_rows(['agent'])} WHERE {t.v('agent')} IS NOT NULL",
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
            q = _Sql(raw, mapping, tz, optional=options.mapping is None)
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
