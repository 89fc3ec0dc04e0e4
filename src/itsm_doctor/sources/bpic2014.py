"""BPI Challenge 2014: Rabobank Group ICT's ITIL records (HP Service Manager).

Files are recognised by their header, any subset may be given:

- ``Detail_Incident.csv`` (``;``): incidents — CI and service component (WBS), impact, urgency,
  priority, category, ``# Reassignments``, open/reopen/resolved/close times, closure code,
  the related interaction and change; day-first times (``05/02/2012 13:32:57``), decimal
  commas (``3871,691111``).
- ``Detail_Interaction.csv``: service desk interactions (tickets of type ``interaction``) with
  their ``First Call Resolution`` flag and the incident they led to.
- ``Detail_Change.csv``: changes, one row per affected CI (one ticket per Change ID), emergency
  flag, CAB approval, planned and actual times, what they originated from.
- activity rows in either layout: the original ``Detail_Incident_Activity.csv`` (``Incident ID;
  DateStamp; IncidentActivity_Number; IncidentActivity_Type; Assignment Group; KM number;
  Interaction ID``) or the circulated ``EventLog.csv`` join (``,``, ISO times, columns
  ``Detail Incident Activity.IncidentActivity_Type`` …).

Activities become events (origin ``activity_log``): Assignment / Reassignment → group change
to the assignment group; Open → created; Resolved → resolve; Closed → close; Reopen →
reopen; Pending vendor → pending (awaiting vendor); Update from customer → customer reply;
others stay activities with their name. Links: incident ``originated_from`` its interaction,
incident ``related`` to its change. Groups have no tier in this log (documented, not
guessed).

Times: every file of the log is on one clock, Rabobank's local time (Europe/Amsterdam;
``--timezone`` overrides it for all files at once): the Open activity lies within a minute of
the incident's Open Time for almost every incident, in the original activity file and in the
``EventLog.csv`` join alike. Where an incident's Open activity comes before its Open Time (the
sample has 214 such incidents, exactly one UTC offset early), the incident was opened at that
activity: its ``opened_at`` is moved back, and a note counts them.

Resolution carried by the ticket: an incident's Resolved Time (and Close Time) is part of its
lifecycle even where the activity log has no Resolved (Closed) row, so when activity rows are
given such an incident gets a ``resolve`` (``close``) event at that time, origin ``derived``.
When no Detail_Incident file is given, incidents are built from the activity rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from itsm_doctor.records.vocabulary import closure_code_sql
from itsm_doctor.sources.base import (
    IntakeError,
    IntakeSession,
    RawTable,
    Source,
    SourceOptions,
    sql_str,
    strptime_first,
)

__all__ = ["ACTIVITY_KINDS", "SOURCE"]

SRC = "bpic2014"
_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S")
# activity type → (event kind, canonical status, pending reason)
ACTIVITY_KINDS: dict[str, tuple[str, str | None, str | None]] = {
    "open": ("created", "new", None),
    "assignment": ("group_change", "assigned", None),
    "reassignment": ("group_change", "assigned", None),
    "resolved": ("resolve", "resolved", None),
    "closed": ("close", "closed", None),
    "reopen": ("reopen", "in_progress", None),
    "pending vendor": ("status_change", "pending", "awaiting_vendor"),
    "update from customer": ("customer_reply", None, None),
    "communication with customer": ("comment_public", None, None),
    "communication with vendor": ("vendor_contact", None, None),
    "urgency change": ("field_change", None, None),
    "impact change": ("field_change", None, None),
}


def _v(col: str) -> str:
    return f"nullif(nullif(trim({col}), ''), '#MULTIVALUE')"


def _ts(col: str, tz: str) -> str:
    return f"timezone({sql_str(tz)}, {strptime_first(_v(col), _FORMATS)})"


def _int(col: str) -> str:
    return f"try_cast({_v(col)} AS INTEGER)"


def _kind(raw: RawTable) -> str:
    if raw.has("Detail Incident Activity.IncidentActivity_Type") or raw.has("IncidentActivity_Type"):
        return "activity"
    if raw.has("Interaction ID", "First Call Resolution"):
        return "interaction"
    if raw.has("Change ID", "Change Type"):
        return "change"
    if raw.has("Incident ID", "Open Time"):
        return "incident"
    return "unknown"


def _id(expr: str) -> str:
    return f"'{SRC}:' || trim({expr})"


def _incidents(session: IntakeSession, raw: RawTable, tz: str) -> None:
    c, o = raw.col, raw.col_or_null
    session.quarantine_missing(raw, column="Incident ID")
    session.quarantine_unparseable(raw, column="Open Time", expr=_ts(c("Open Time"), tz))
    session.emit(
        "ticket",
        f"""
        SELECT {_id(c("Incident ID"))} AS ticket_id, '{SRC}' AS source, trim({c("Incident ID")}) AS source_key,
               'incident' AS ticket_type, {_v(c("Category"))} AS category,
               CASE WHEN {_v(c("Category"))} IS NOT NULL THEN [{_v(c("Category"))}] END AS category_path,
               CASE WHEN {_v(o("Service Component WBS (aff)"))} IS NOT NULL
                    THEN {_id(o("Service Component WBS (aff)"))} END AS service_id,
               CASE WHEN {_v(o("CI Name (aff)"))} IS NOT NULL THEN {_id(o("CI Name (aff)"))} END AS ci_id,
               {_int(o("Priority"))} AS priority, {_v(o("Priority"))} AS priority_raw,
               {_int(o("Impact"))} AS impact, {_v(o("Impact"))} AS impact_raw,
               {_int(o("Urgency"))} AS urgency, {_v(o("Urgency"))} AS urgency_raw,
               CASE lower({_v(o("Status"))}) WHEN 'closed' THEN 'closed' WHEN 'open' THEN 'in_progress' END AS status,
               {_v(o("Status"))} AS status_raw,
               {_ts(c("Open Time"), tz)} AS opened_at, {_ts(o("Resolved Time"), tz)} AS resolved_at,
               {_ts(o("Close Time"), tz)} AS closed_at,
               CASE WHEN {_v(o("Reopen Time"))} IS NOT NULL THEN 1 ELSE 0 END AS reopen_count,
               {_int(o("# Reassignments"))} AS reassignment_count,
               {closure_code_sql(_v(o("Closure Code")))} AS resolution_code,
               {_v(o("Closure Code"))} AS resolution_code_raw,
               json_object('handle_time_h', try_cast(replace({_v(o("Handle Time (Hours)"))}, ',', '.') AS DOUBLE),
                           'km_number', {_v(o("KM number"))}, 'alert_status', {_v(o("Alert Status"))})::VARCHAR AS raw,
               ? AS _file, _row
        FROM {raw.accepted}
        """,
        [raw.file],
    )
    session.emit(
        "link",
        f"""
        SELECT DISTINCT {_id(c("Incident ID"))} AS from_ticket_id, {_id(o("Related Interaction"))} AS to_ticket_id,
               'originated_from' AS relation, '{SRC}' AS source
        FROM {raw.accepted} WHERE {_v(o("Related Interaction"))} IS NOT NULL
        UNION SELECT DISTINCT {_id(c("Incident ID"))}, {_id(o("Related Change"))}, 'related', '{SRC}'
        FROM {raw.accepted} WHERE {_v(o("Related Change"))} IS NOT NULL
        """,
    )


def _interactions(session: IntakeSession, raw: RawTable, tz: str) -> None:
    c, o = raw.col, raw.col_or_null
    session.quarantine_missing(raw, column="Interaction ID")
    session.quarantine_unparseable(raw, column="Open Time (First Touch)", expr=_ts(c("Open Time (First Touch)"), tz))
    session.emit(
        "ticket",
        f"""
        SELECT {_id(c("Interaction ID"))} AS ticket_id, '{SRC}' AS source, trim({c("Interaction ID")}) AS source_key,
               'interaction' AS ticket_type, {_v(o("Category"))} AS category,
               CASE WHEN {_v(o("CI Name (aff)"))} IS NOT NULL THEN {_id(o("CI Name (aff)"))} END AS ci_id,
               {_int(o("Priority"))} AS priority, {_v(o("Priority"))} AS priority_raw,
               {_int(o("Impact"))} AS impact, {_int(o("Urgency"))} AS urgency,
               CASE lower({_v(o("Status"))}) WHEN 'closed' THEN 'closed' ELSE 'in_progress' END AS status,
               {_ts(c("Open Time (First Touch)"), tz)} AS opened_at, {_ts(o("Close Time"), tz)} AS closed_at,
               CASE {_v(o("First Call Resolution"))} WHEN 'Y' THEN true WHEN 'N' THEN false END
                   AS first_contact_resolved,
               {_v(o("Closure Code"))} AS resolution_code_raw, ? AS _file, _row
        FROM {raw.accepted}
        QUALIFY row_number() OVER (PARTITION BY trim({c("Interaction ID")}) ORDER BY _row) = 1
        """,
        [raw.file],
    )
    session.emit(
        "link",
        f"""
        SELECT DISTINCT {_id(o("Related Incident"))} AS from_ticket_id, {_id(c("Interaction ID"))} AS to_ticket_id,
               'originated_from' AS relation, '{SRC}' AS source
        FROM {raw.accepted} WHERE {_v(o("Related Incident"))} IS NOT NULL
        """,
    )


def _changes(session: IntakeSession, raw: RawTable, tz: str) -> None:
    c, o = raw.col, raw.col_or_null
    session.quarantine_missing(raw, column="Change ID")
    session.emit(
        "ticket",
        f"""
        SELECT {_id(c("Change ID"))} AS ticket_id, '{SRC}' AS source, trim({c("Change ID")}) AS source_key,
               'change' AS ticket_type, {_id(c("Change ID"))} AS title,
               CASE WHEN {_v(o("CI Name (aff)"))} IS NOT NULL THEN {_id(o("CI Name (aff)"))} END AS ci_id,
               CASE {_v(o("Emergency Change"))} WHEN 'Y' THEN 'emergency' ELSE 'normal' END AS change_type,
               {_ts(o("Change record Open Time"), tz)} AS opened_at,
               {_ts(o("Change record Close Time"), tz)} AS closed_at,
               CASE WHEN {_v(o("Change record Close Time"))} IS NOT NULL THEN 'closed' ELSE 'in_progress' END AS status,
               {_ts(o("Planned Start"), tz)} AS planned_start, {_ts(o("Planned End"), tz)} AS planned_end,
               {_ts(o("Actual Start"), tz)} AS actual_start, {_ts(o("Actual End"), tz)} AS actual_end,
               json_object('change_type', {_v(o("Change Type"))}, 'risk', {_v(o("Risk Assessment"))},
                           'cab_approval_needed', {_v(o("CAB-approval needed"))},
                           'originated_from', {_v(o("Originated from"))})::VARCHAR AS raw,
               ? AS _file, _row
        FROM {raw.accepted}
        QUALIFY row_number() OVER (PARTITION BY trim({c("Change ID")}) ORDER BY _row) = 1
        """,
        [raw.file],
    )


def _activities(session: IntakeSession, raw: RawTable, tz: str, *, with_tickets: bool) -> None:
    joined = raw.has("Detail Incident Activity.IncidentActivity_Type")
    prefix = "Detail Incident Activity." if joined else ""
    c, o = raw.col, raw.col_or_null
    kind_col, ts_col = c(prefix + "IncidentActivity_Type"), prefix + "DateStamp"
    group = c(prefix + "Assignment Group")
    session.quarantine_missing(raw, column="Incident ID")
    session.quarantine_unparseable(raw, column=ts_col, expr=_ts(c(ts_col), tz))
    kinds = ", ".join(
        f"({sql_str(k)}, {sql_str(v[0])}, {sql_str(v[1]) if v[1] else 'NULL'}, {sql_str(v[2]) if v[2] else 'NULL'})"
        for k, v in ACTIVITY_KINDS.items()
    )
    session.emit(
        "event",
        f"""
        SELECT {_id(c("Incident ID"))} AS ticket_id, {_ts(c(ts_col), tz)} AS ts,
               coalesce(m.kind, 'activity') AS kind, m.status AS to_status, m.reason AS pending_reason,
               CASE WHEN m.kind = 'group_change' AND {_v(group)} IS NOT NULL THEN {_id(group)} END AS to_group_id,
               {_v(kind_col)} AS activity, 'activity_log' AS origin, '{SRC}' AS source,
               try_cast({_v(o(prefix + "IncidentActivity_Number"))} AS VARCHAR) AS to_raw,
               ? AS _file, r._row
        FROM {raw.accepted} r LEFT JOIN (VALUES {kinds}) m(label, kind, status, reason)
             ON m.label = lower({_v(kind_col)})
        """,
        [raw.file],
    )
    session.emit(
        "group",
        f"SELECT DISTINCT {_id(group)} AS group_id, trim({group}) AS name, 'unknown' AS kind, '{SRC}' AS source, "
        f"trim({group}) AS source_id FROM {raw.accepted} WHERE {_v(group)} IS NOT NULL",
    )
    if with_tickets:
        session.emit(
            "ticket",
            f"""
            SELECT {_id(c("Incident ID"))} AS ticket_id, '{SRC}' AS source, trim({c("Incident ID")}) AS source_key,
                   'incident' AS ticket_type, any_value({_v(o("Category"))}) AS category,
                   any_value({_int(o("Priority"))}) AS priority, any_value({_int(o("Impact"))}) AS impact,
                   any_value({_int(o("Urgency"))}) AS urgency, any_value({_int(o("# Reassignments"))})
                   AS reassignment_count, ? AS _file
            FROM {raw.accepted} GROUP BY trim({c("Incident ID")})
            """,
            [raw.file],
        )


def _read(session: IntakeSession, files: Sequence[Path], options: SourceOptions) -> None:
    # One clock for every file of the log (see the module docstring): mixing them shifted
    # every first response by the summer-time offset.
    tz = options.timezone or "Europe/Amsterdam"
    loaded = [session.load(p, source=SRC) for p in files]
    kinds = {raw.name: _kind(raw) for raw in loaded}
    has_incidents = "incident" in kinds.values()
    has_activities = "activity" in kinds.values()
    for raw in loaded:
        kind = kinds[raw.name]
        if kind == "incident":
            _incidents(session, raw, tz)
        elif kind == "interaction":
            _interactions(session, raw, tz)
        elif kind == "change":
            _changes(session, raw, tz)
        elif kind == "activity":
            _activities(session, raw, tz, with_tickets=not has_incidents)
        else:
            raise IntakeError(
                "not a BPIC 2014 file (incident, interaction, change or activity layout)", file=raw.file, row=1
            )
    if has_incidents and has_activities:
        _reconcile(session)
    if options.timezone is None:
        session.notes.append(
            "BPIC 2014 times carry no offset: every file read as Europe/Amsterdam local time "
            "(give --timezone to change)"
        )


def _reconcile(session: IntakeSession) -> None:
    """Make the incidents' own times and their activity rows tell one lifecycle (module docstring)."""
    con = session.con
    early = f"""
        SELECT t.ticket_id, f.ts FROM stage_ticket t
        JOIN (SELECT ticket_id, min(ts) AS ts FROM stage_event WHERE source = '{SRC}' AND kind = 'created'
              GROUP BY ticket_id) f USING (ticket_id)
        WHERE t.ticket_type = 'incident' AND f.ts < t.opened_at - INTERVAL 1 MINUTE
    """
    [(moved,)] = con.execute(f"SELECT count(*) FROM ({early})").fetchall()
    if moved:
        con.execute(f"UPDATE stage_ticket t SET opened_at = e.ts FROM ({early}) e WHERE t.ticket_id = e.ticket_id")
        session.notes.append(
            f"{moved:,} incident(s) have their Open activity before their Open Time (by the UTC offset "
            "for most): opened at the Open activity"
        )
    for kind, status, column, word in (
        ("resolve", "resolved", "resolved_at", "Resolved"),
        ("close", "closed", "closed_at", "Closed"),
    ):
        lacking = f"""
            FROM stage_ticket t
            WHERE t.source = '{SRC}' AND t.ticket_type = 'incident' AND t.{column} IS NOT NULL
              AND t.ticket_id IN (SELECT ticket_id FROM stage_event WHERE source = '{SRC}')
              AND t.ticket_id NOT IN (SELECT ticket_id FROM stage_event WHERE kind = '{kind}')
        """
        [(n,)] = con.execute(f"SELECT count(*) {lacking}").fetchall()
        if not n:
            continue
        session.emit(
            "event",
            f"SELECT t.ticket_id, t.{column} AS ts, '{kind}' AS kind, '{status}' AS to_status, "
            f"'derived' AS origin, '{SRC}' AS source, t._file, t._row {lacking}",
        )
        session.notes.append(
            f"{n:,} incident(s) carry a {word} Time but no {word} activity: a {kind} event (origin derived) "
            f"is added at that time"
        )


def _recognises(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


SOURCE = Source(
    name=SRC,
    summary="BPI Challenge 2014 (Rabobank ICT): incidents, interactions, changes, activity rows",
    recognises=_recognises,
    read=_read,
)
