"""ServiceNow exports: the list export, the ``sys_audit`` history, and the snapshot layout.

The layout is detected from each file's header:

- **snapshot** — one row per update of a record: ``number``, ``incident_state`` (or
  ``state``), ``sys_mod_count``, ``sys_updated_at`` … (the UCI "incident management process
  enriched event log"). Events come from diffing consecutive snapshots of the same number,
  ordered by ``sys_mod_count`` then ``sys_updated_at`` (origin ``snapshot_diff``); the ticket
  is its last snapshot.
- **list** — one row per record (incident, problem, change_request, sc_req_item list views,
  CSV or XLSX): ``number``, ``state``/``incident_state``, ``opened_at``, optionally
  ``resolved_at``, ``closed_at``, ``assignment_group``, ``assigned_to``, ``priority``,
  ``impact``, ``urgency``, ``category``, ``cmdb_ci``, ``made_sla``, ``reassignment_count``,
  ``reopen_count``, ``problem_id``, ``caused_by``, ``rfc``, ``close_code``, ``sys_id``. Events
  are what the timestamps imply (opened, resolved, closed; origin ``derived``), unless a
  ``sys_audit`` export is given.
- **sys_audit** — ``tablename, documentkey, fieldname, oldvalue, newvalue, sys_created_on``:
  true history (origin ``history``) for ``state``/``incident_state``, ``assignment_group``,
  ``assigned_to`` and ``priority``; rows join their record by ``documentkey`` = ``sys_id`` (or
  the number).

Values may be display values ("3 - Moderate", "In Progress", "Group 56") or raw codes
(3, 2); ``?`` and empty cells are null. Times are ISO (``2026-01-05 10:00:00``) or day-first
(``29/2/2016 01:16``); naive times are read in ``--timezone`` (default UTC, noted).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from itsm_doctor.records.vocabulary import closure_code_sql
from itsm_doctor.sources.base import IntakeSession, RawTable, Source, SourceOptions, sql_str, strptime_first

__all__ = ["SOURCE", "STATES"]

SRC = "servicenow"
# state label or code → (canonical status, pending reason); codes per the incident state model
STATES: dict[str, tuple[str, str | None]] = {
    "1": ("new", None),
    "new": ("new", None),
    "2": ("in_progress", None),
    "in progress": ("in_progress", None),
    "active": ("in_progress", None),
    "work in progress": ("in_progress", None),
    "assigned": ("assigned", None),
    "3": ("pending", "unknown"),
    "on hold": ("pending", "unknown"),
    "pending": ("pending", "unknown"),
    "awaiting user info": ("pending", "awaiting_user"),
    "awaiting caller": ("pending", "awaiting_user"),
    "awaiting problem": ("pending", "awaiting_problem"),
    "awaiting vendor": ("pending", "awaiting_vendor"),
    "awaiting evidence": ("pending", "awaiting_evidence"),
    "awaiting change": ("pending", "awaiting_change"),
    "6": ("resolved", None),
    "resolved": ("resolved", None),
    "7": ("closed", None),
    "closed": ("closed", None),
    "closed complete": ("closed", None),
    "closed incomplete": ("closed", None),
    "closed skipped": ("closed", None),
    "8": ("cancelled", None),
    "canceled": ("cancelled", None),
    "cancelled": ("cancelled", None),
}
HOLD_REASONS = {
    "1": "awaiting_user",
    "awaiting caller": "awaiting_user",
    "5": "awaiting_change",
    "awaiting change": "awaiting_change",
    "3": "awaiting_problem",
    "awaiting problem": "awaiting_problem",
    "4": "awaiting_vendor",
    "awaiting vendor": "awaiting_vendor",
}
CHANNELS = {
    "phone": "phone",
    "email": "email",
    "self service": "portal",
    "self-service": "portal",
    "ivr": "phone",
    "direct opening": "walk_in",
    "walk-in": "walk_in",
    "chat": "chat",
    "web": "portal",
}
TYPES = {"INC": "incident", "PRB": "problem", "CHG": "change", "RIT": "request", "REQ": "request", "TAS": "task"}
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S")


def _tables(session: IntakeSession) -> None:
    con = session.con
    con.execute("CREATE OR REPLACE TEMP TABLE sn_state (label VARCHAR, status VARCHAR, reason VARCHAR)")
    con.executemany("INSERT INTO sn_state VALUES (?, ?, ?)", [(k, v[0], v[1]) for k, v in STATES.items()])
    con.execute("CREATE OR REPLACE TEMP TABLE sn_hold (label VARCHAR, reason VARCHAR)")
    con.executemany("INSERT INTO sn_hold VALUES (?, ?)", list(HOLD_REASONS.items()))
    con.execute("CREATE OR REPLACE TEMP TABLE sn_channel (label VARCHAR, channel VARCHAR)")
    con.executemany("INSERT INTO sn_channel VALUES (?, ?)", list(CHANNELS.items()))


def _val(col: str) -> str:
    """A cell as text, null when empty or '?'."""
    return f"nullif(nullif(trim({col}), ''), '?')"


def _naive_ts(col: str) -> str:
    """A cell as a timestamp without zone: the first of ``_FORMATS`` that reads it
    (``strptime_first``: ISO and slashed times each try their own kind first)."""
    return strptime_first(_val(col), _FORMATS)


def _ts(col: str, tz: str) -> str:
    # UTC needs no time-zone lookup: the same microseconds, read as an instant (ICU's
    # conversion cost more than the parsing itself)
    if tz.upper() in ("UTC", "ETC/UTC"):
        return f"make_timestamptz(epoch_us({_naive_ts(col)}))"
    return f"timezone({sql_str(tz)}, {_naive_ts(col)})"


def _num(col: str) -> str:
    """The leading number of "3 - Moderate" or "3"."""
    return f"try_cast(regexp_extract({_val(col)}, '^\\s*(\\d+)', 1) AS INTEGER)"


def _layout(raw: RawTable) -> str:
    if raw.has("documentkey", "fieldname", "newvalue"):
        return "audit"
    if raw.has("number", "sys_mod_count", "sys_updated_at"):
        return "snapshot"
    return "list"


def _state(raw: RawTable) -> str:
    return raw.col("incident_state") if raw.has("incident_state") else raw.col("state")


# the times a row must have readable when given: (column, typed name)
_GIVEN = (("opened_at", "opened_at"), ("sys_updated_at", "updated_at"))


def _checks(raw: RawTable) -> list[tuple[str, str, str, str]]:
    """What quarantines a row, in order of precedence: (reason, column, condition over the typed
    columns of ``_typed``, detail over the raw cells)."""
    c = raw.col
    checks = [("missing_key", "number", "nullif(number, '') IS NULL", "'empty'")]
    for column, typed in _GIVEN:
        if raw.has(column):
            checks.append(
                (
                    "unparseable_time",
                    column,
                    f"{typed}_given AND {typed} IS NULL",
                    f"'cannot read ' || {c(column)} || ' as a time'",
                )
            )
    # a state with no entry in sn_state (which gives every entry a status)
    checks.append(
        ("unknown_status", "state", "state_raw IS NOT NULL AND status IS NULL", f"'unknown state ' || {_state(raw)}")
    )
    return checks


def _quarantine_checked(session: IntakeSession, raw: RawTable, checked: str) -> bool:
    """Quarantine the rows ``checked`` (a table of ``_typed`` with ``check_no``) flags, each with
    the reason of the first check it fails; whether there were any."""
    checks = _checks(raw)
    found = {
        int(i)
        for (i,) in session.con.execute(
            f"SELECT DISTINCT check_no FROM {checked} WHERE check_no IS NOT NULL"
        ).fetchall()
    }
    for i, (reason, column, _cond, detail) in enumerate(checks):
        if i in found:
            session.quarantine_where(
                raw,
                reason=reason,
                column=column,
                condition=f"_row IN (SELECT _row FROM {checked} WHERE check_no = {i})",
                detail=detail,
            )
    return bool(found)


def _typed(raw: RawTable, tz: str, rows: str, *, checked: bool = False) -> str:
    """SELECT of ``rows`` (a relation over ``raw``'s columns) with typed, named columns (missing
    columns are null); ``checked`` adds ``check_no``, the first of ``_checks`` a row fails."""
    o = raw.col_or_null
    state = _state(raw)
    given = ""
    if checked:
        given = "".join(f", nullif(trim({o(col)}), '') IS NOT NULL AS {typed}_given" for col, typed in _GIVEN)
    typed = f"""
        SELECT r._row, trim({raw.col("number")}) AS number, {_val(o("sys_id"))} AS sys_id,
               {_val(state)} AS state_raw, st.status, coalesce(h.reason, st.reason) AS reason,
               {_ts(o("opened_at"), tz)} AS opened_at, {_ts(o("resolved_at"), tz)} AS resolved_at,
               {_ts(o("closed_at"), tz)} AS closed_at, {_ts(o("sys_updated_at"), tz)} AS updated_at,
               try_cast({_val(o("sys_mod_count"))} AS INTEGER) AS mod_count,
               {_val(o("assignment_group"))} AS grp, {_val(o("assigned_to"))} AS agent,
               {_val(o("priority"))} AS priority_raw, {_num(o("priority"))} AS priority,
               {_val(o("impact"))} AS impact_raw, {_num(o("impact"))} AS impact,
               {_val(o("urgency"))} AS urgency_raw, {_num(o("urgency"))} AS urgency,
               {_val(o("category"))} AS category, {_val(o("subcategory"))} AS subcategory,
               {_val(o("cmdb_ci"))} AS ci, {_val(o("contact_type"))} AS contact_type,
               {_val(o("short_description"))} AS title, {_val(o("caller_id"))} AS caller,
               try_cast({_num(o("reassignment_count"))} AS INTEGER) AS reassignment_count,
               try_cast({_num(o("reopen_count"))} AS INTEGER) AS reopen_count,
               CASE lower({_val(o("made_sla"))}) WHEN 'true' THEN true WHEN 'false' THEN false
                    WHEN '1' THEN true WHEN '0' THEN false END AS made_sla,
               {_val(o("problem_id"))} AS problem_id, {_val(o("caused_by"))} AS caused_by, {_val(o("rfc"))} AS rfc,
               coalesce({_val(o("close_code"))}, {_val(o("closed_code"))}) AS close_code{given}
        FROM {rows} r
        LEFT JOIN sn_state st ON st.label = lower({_val(state)})
        LEFT JOIN sn_hold h ON h.label = lower({_val(o("hold_reason"))})
        """
    if not checked:
        return typed
    # the conditions read the typed columns: every cell is parsed once
    whens = " ".join(f"WHEN {cond} THEN {i}" for i, (_r, _c, cond, _d) in enumerate(_checks(raw)))
    return (
        f"SELECT * EXCLUDE ({', '.join(f'{t}_given' for _c, t in _GIVEN)}), CASE {whens} END AS check_no FROM ({typed})"
    )


def _stage(session: IntakeSession, raw: RawTable, tz: str) -> str:
    """The accepted rows with typed, named columns (missing columns are null), as a table; the
    rows failing a check are quarantined."""
    staged = f"{raw.name}_sn"
    session.con.execute(f"CREATE OR REPLACE TEMP TABLE {staged} AS {_typed(raw, tz, raw.accepted, checked=True)}")
    if _quarantine_checked(session, raw, staged):
        session.con.execute(f"DELETE FROM {staged} WHERE check_no IS NOT NULL")
    return staged


def _id(expr: str) -> str:
    return f"'{SRC}:' || {expr}"


def _emit_tickets(session: IntakeSession, staged: str, file: str) -> None:
    """A ticket from each row of ``staged`` (typed rows, one per number)."""
    session.emit(
        "ticket",
        f"""
        SELECT {_id("number")} AS ticket_id, '{SRC}' AS source, number AS source_key,
               coalesce(m.ticket_type, 'incident') AS ticket_type, title,
               CASE WHEN category IS NOT NULL THEN list_filter([category, subcategory], lambda x: x IS NOT NULL) END
                   AS category_path,
               category, CASE WHEN ci IS NOT NULL THEN {_id("ci")} END AS ci_id,
               CASE WHEN ci IS NOT NULL THEN {_id("ci")} END AS service_id,
               coalesce(ch.channel, CASE WHEN contact_type IS NOT NULL THEN 'other' END) AS channel,
               priority, priority_raw, impact, impact_raw, urgency, urgency_raw,
               status, CASE WHEN status = 'pending' THEN reason END AS pending_reason, state_raw AS status_raw,
               CASE WHEN caller IS NOT NULL THEN {_id("caller")} END AS requester_id,
               CASE WHEN grp IS NOT NULL THEN {_id("grp")} END AS assigned_group_id,
               CASE WHEN agent IS NOT NULL THEN {_id("agent")} END AS assignee_id,
               opened_at, resolved_at, closed_at,
               {closure_code_sql("close_code")} AS resolution_code, close_code AS resolution_code_raw,
               reopen_count, reassignment_count, made_sla AS sla_met,
               CASE WHEN problem_id IS NOT NULL THEN {_id("problem_id")} END AS problem_id,
               CASE WHEN caused_by IS NOT NULL THEN {_id("caused_by")} END AS caused_by_change_id,
               CASE WHEN rfc IS NOT NULL THEN {_id("rfc")} END AS fixed_by_change_id,
               ? AS _file, _row
        FROM {staged} s
        LEFT JOIN (VALUES {", ".join(f"({sql_str(k)}, {sql_str(v)})" for k, v in TYPES.items())}) m(prefix, ticket_type)
               ON m.prefix = upper(left(number, 3))
        LEFT JOIN sn_channel ch ON ch.label = lower(contact_type)
        """,
        [file],
    )


def _emit_parties(session: IntakeSession, staged: str) -> None:
    """Groups and agents (with the groups each was seen in) of the typed rows ``staged``."""
    session.emit(
        "group",
        f"SELECT DISTINCT {_id('grp')} AS group_id, grp AS name, 'unknown' AS kind, '{SRC}' AS source, "
        f"grp AS source_id FROM {staged} WHERE grp IS NOT NULL",
    )
    session.emit(
        "agent",
        f"SELECT {_id('agent')} AS agent_id, agent AS display_name, 'agent' AS role, false AS is_system, "
        f"false AS is_vendor, list_sort(list(DISTINCT {_id('grp')}) FILTER (WHERE grp IS NOT NULL)) AS group_ids, "
        f"'{SRC}' AS source, agent AS source_id FROM {staged} WHERE agent IS NOT NULL GROUP BY agent",
    )


def _emit_links(session: IntakeSession, staged: str) -> None:
    """The problem, cause and change links the typed rows ``staged`` name."""
    session.emit(
        "link",
        f"""
        SELECT DISTINCT {_id("problem_id")} AS from_ticket_id, {_id("number")} AS to_ticket_id,
               'problem_of' AS relation,
               '{SRC}' AS source FROM {staged} WHERE problem_id IS NOT NULL
        UNION SELECT DISTINCT {_id("number")}, {_id("caused_by")}, 'caused_by', '{SRC}' FROM {staged}
               WHERE caused_by IS NOT NULL
        UNION SELECT DISTINCT {_id("number")}, {_id("rfc")}, 'related', '{SRC}' FROM {staged} WHERE rfc IS NOT NULL
        """,
    )


def _read_snapshot(session: IntakeSession, raw: RawTable, tz: str) -> None:
    """Events from diffing each snapshot with the one before it of the same number, and the ticket
    from the last: one window over (number, sys_mod_count, sys_updated_at) computes both, in one
    sort. The window carries only what the diff compares; the ticket's other columns are typed for
    the last rows alone (a record has about five rows)."""
    diff = f"{raw.name}_diff"
    order = "coalesce(mod_count, -1), updated_at, _row"
    window = f"""
        CREATE OR REPLACE TEMP TABLE {diff} AS
        SELECT _row, number, state_raw, status, reason, opened_at, updated_at, mod_count, grp, agent, priority_raw,
               check_no, lag(state_raw) OVER w AS prev_state, lag(status) OVER w AS prev_status,
               lag(reason) OVER w AS prev_reason, lag(grp) OVER w AS prev_grp, lag(agent) OVER w AS prev_agent,
               lag(priority_raw) OVER w AS prev_priority, lead(_row) OVER w IS NULL AS is_last
        FROM ({_typed(raw, tz, raw.accepted, checked=True)}) WINDOW w AS (PARTITION BY number ORDER BY {order})
        """
    session.con.execute(window)
    # the checks ride along the window; a quarantined row must not be anyone's previous
    # snapshot, so the (rare) file with one is diffed again without it
    if _quarantine_checked(session, raw, diff):
        session.con.execute(window)
    session.emit(
        "event",
        f"""
        SELECT {_id("number")} AS ticket_id, coalesce(updated_at, opened_at) AS ts,
               CASE WHEN prev_state IS NULL THEN 'created'
                    WHEN status IS DISTINCT FROM prev_status OR reason IS DISTINCT FROM prev_reason THEN 'status_change'
                    WHEN grp IS DISTINCT FROM prev_grp THEN 'group_change'
                    WHEN agent IS DISTINCT FROM prev_agent THEN 'assignee_change'
                    WHEN priority_raw IS DISTINCT FROM prev_priority THEN 'priority_change'
                    ELSE 'field_change' END AS kind,
               CASE WHEN prev_state IS NOT NULL AND priority_raw IS DISTINCT FROM prev_priority
                         AND status IS NOT DISTINCT FROM prev_status AND grp IS NOT DISTINCT FROM prev_grp
                         AND agent IS NOT DISTINCT FROM prev_agent THEN 'priority' ELSE 'incident_state' END AS field,
               CASE WHEN priority_raw IS DISTINCT FROM prev_priority AND prev_state IS NOT NULL THEN prev_priority
                    ELSE prev_state END AS from_raw,
               CASE WHEN priority_raw IS DISTINCT FROM prev_priority AND prev_state IS NOT NULL THEN priority_raw
                    ELSE state_raw END AS to_raw,
               status AS to_status, CASE WHEN status = 'pending' THEN reason END AS pending_reason,
               CASE WHEN grp IS NOT NULL THEN {_id("grp")} END AS to_group_id,
               CASE WHEN agent IS NOT NULL THEN {_id("agent")} END AS to_agent_id,
               'snapshot_diff' AS origin, '{SRC}' AS source, ? AS _file, _row
        FROM {diff}
        """,
        [raw.file],
    )
    # the last rows' text, by a join whose build side is those rows (an IN filter read all of them)
    last = f"(SELECT r.* FROM (SELECT _row FROM {diff} WHERE is_last) l JOIN {raw.name} r USING (_row))"
    _emit_tickets(session, f"({_typed(raw, tz, last)})", raw.file)
    _emit_parties(session, diff)
    # the few rows naming a link, found in one scan for the three kinds of link
    linked = f"{raw.name}_linked"
    session.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {linked} AS SELECT number, problem_id, caused_by, rfc "
        f"FROM ({_typed(raw, tz, raw.accepted)}) WHERE coalesce(problem_id, caused_by, rfc) IS NOT NULL"
    )
    _emit_links(session, linked)
    session.con.execute(f"DROP TABLE {linked}")
    _note_snapshot_gaps(session, diff)
    session.con.execute(f"DROP TABLE {diff}")


def _note_snapshot_gaps(session: IntakeSession, staged: str) -> None:
    """Say how many records skip updates: a gap in ``sys_mod_count`` hides the changes made
    between two rows, which only the record's own counters still count."""
    row = session.con.execute(
        f"""
        SELECT count(*) FILTER (WHERE max_n - min_n + 1 > n), count(*) FROM (
            SELECT number, min(mod_count) AS min_n, max(mod_count) AS max_n, count(*) AS n
            FROM (SELECT DISTINCT number, mod_count FROM {staged} WHERE mod_count IS NOT NULL) GROUP BY number)
        """
    ).fetchone()
    gaps, records = (int(row[0]), int(row[1])) if row else (0, 0)
    if gaps:
        session.notes.append(
            f"{gaps:,} of {records:,} records ({gaps / records:.0%}) skip updates (gaps in sys_mod_count): "
            "changes between two rows are invisible, so reassignment and reopening also read the record's own "
            "reassignment_count and reopen_count"
        )


def _read_list(session: IntakeSession, raw: RawTable, tz: str, *, audited: bool) -> None:
    staged = _stage(session, raw, tz)
    session.quarantine_where(
        raw,
        reason="duplicate_key",
        column="number",
        condition=(
            f"_row IN (SELECT _row FROM {staged} QUALIFY row_number() OVER (PARTITION BY number ORDER BY _row) > 1)"
        ),
        detail="'the number appears again in this list'",
    )
    staged_ok = f"(SELECT s.* FROM {staged} s JOIN {raw.accepted} a USING (_row))"
    if not audited:
        session.emit(
            "event",
            f"""
            SELECT {_id("number")} AS ticket_id, opened_at AS ts, 'created' AS kind, 'new' AS to_status,
                   'derived' AS origin, '{SRC}' AS source, ? AS _file, _row
            FROM {staged_ok} s WHERE opened_at IS NOT NULL
            UNION ALL
            SELECT {_id("number")}, resolved_at, 'resolve', 'resolved', 'derived', '{SRC}', ?, _row
                FROM {staged_ok} s WHERE resolved_at IS NOT NULL
            UNION ALL
            SELECT {_id("number")}, closed_at, 'close', 'closed', 'derived', '{SRC}', ?, _row
                FROM {staged_ok} s WHERE closed_at IS NOT NULL
            """,
            [raw.file, raw.file, raw.file],
        )
    session.con.execute(f"CREATE OR REPLACE TEMP TABLE sn_keys AS SELECT number, sys_id FROM {staged_ok} s")
    # the list's duplicates are quarantined: each number is one row
    _emit_tickets(session, staged_ok, raw.file)
    _emit_parties(session, staged_ok)
    _emit_links(session, staged_ok)


def _read_audit(session: IntakeSession, raw: RawTable, tz: str) -> None:
    c, o = raw.col, raw.col_or_null
    session.quarantine_missing(raw, column="documentkey")
    session.quarantine_unparseable(raw, column="sys_created_on", expr=_ts(c("sys_created_on"), tz))
    session.con.execute("CREATE TEMP TABLE IF NOT EXISTS sn_keys (number VARCHAR, sys_id VARCHAR)")
    # documentkey → number, by sys_id first, else the number itself: one equality join (an OR in
    # the join condition made it a nested loop, quadratic in the rows: 200 k rows took minutes)
    session.con.execute(
        """
        CREATE OR REPLACE TEMP TABLE sn_doc AS
        SELECT documentkey, arg_min(number, pref) AS number FROM (
            SELECT sys_id AS documentkey, number, 0 AS pref FROM sn_keys WHERE sys_id IS NOT NULL
            UNION ALL SELECT number, number, 1 FROM sn_keys WHERE number IS NOT NULL
        ) GROUP BY documentkey
        """
    )
    field = f"lower({_val(c('fieldname'))})"
    new, old = _val(c("newvalue")), _val(c("oldvalue"))
    session.emit(
        "event",
        f"""
        SELECT {_id("coalesce(k.number, " + _val(c("documentkey")) + ")")} AS ticket_id,
               {_ts(c("sys_created_on"), tz)} AS ts,
               CASE WHEN {field} IN ('state', 'incident_state') THEN 'status_change'
                    WHEN {field} = 'assignment_group' THEN 'group_change'
                    WHEN {field} = 'assigned_to' THEN 'assignee_change'
                    WHEN {field} = 'priority' THEN 'priority_change' ELSE 'field_change' END AS kind,
               {field} AS field, {old} AS from_raw, {new} AS to_raw,
               CASE WHEN {field} IN ('state', 'incident_state') THEN st.status END AS to_status,
               CASE WHEN {field} IN ('state', 'incident_state') AND st.status = 'pending' THEN st.reason END
                   AS pending_reason,
               CASE WHEN {field} = 'assignment_group' AND {new} IS NOT NULL THEN {_id(new)} END AS to_group_id,
               CASE WHEN {field} = 'assigned_to' AND {new} IS NOT NULL THEN {_id(new)} END AS to_agent_id,
               CASE WHEN {_val(o("user"))} IS NOT NULL THEN {_id(_val(o("user")))} END AS actor_id,
               'history' AS origin, '{SRC}' AS source, ? AS _file, r._row
        FROM {raw.accepted} r
        LEFT JOIN sn_doc k ON k.documentkey = {_val(c("documentkey"))}
        LEFT JOIN sn_state st ON st.label = lower({new})
        """,
        [raw.file],
    )


def _read(session: IntakeSession, files: Sequence[Path], options: SourceOptions) -> None:
    tz = options.timezone or "UTC"
    _tables(session)
    loaded = [session.load(p, source=SRC) for p in files]
    audited = any(_layout(r) == "audit" for r in loaded)
    # lists first, so that audit rows can find their record by sys_id
    for raw in sorted(loaded, key=lambda r: {"list": 0, "snapshot": 1, "audit": 2}[_layout(r)]):
        layout = _layout(raw)
        if layout == "snapshot":
            _read_snapshot(session, raw, tz)
        elif layout == "list":
            _read_list(session, raw, tz, audited=audited)
        else:
            _read_audit(session, raw, tz)
    if options.timezone is None:
        session.notes.append("ServiceNow times carry no offset: read as UTC (give --timezone to change)")


def _recognises(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".csv", ".csv.gz", ".xlsx")) and not name.startswith(".")


SOURCE = Source(
    name=SRC,
    summary="ServiceNow list exports (CSV/XLSX), sys_audit history, or the one-row-per-update snapshot log",
    recognises=_recognises,
    read=_read,
)
