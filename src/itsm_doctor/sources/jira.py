"""Jira Service Management: the CSV export (all fields), and the REST changelog as JSON.

CSV: one row per issue; repeated column names (``Comment``, ``Labels``, ``Component/s``,
``Outward issue link (Causes)`` …) are read as lists; the expected columns are ``Issue key``,
``Issue Type``, ``Status``, ``Priority``, ``Summary``, ``Assignee``, ``Reporter``, ``Created``,
``Resolved``, optionally ``Updated``, ``Resolution``, ``Component/s`` (the service),
``Custom field (Request Type)``, ``Custom field (Time to resolution)`` (an SLA outcome when it
reads "breached" / "met"), ``Outward issue link (Causes)`` / ``Inward issue link (Causes)``.
Dates are Jira's ``24/Nov/26 3:15 PM`` (also ISO); naive times are read in ``--timezone``.

Changelog JSON: search results with ``expand=changelog`` (``{"issues": [{"key", "changelog":
{"histories": [...]}}]}``) or one issue (``{"key", "changelog": {...}}``); each history item
with ``field`` status / assignee / priority becomes an event (origin ``history``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from itsm_doctor.sources.base import IntakeError, IntakeSession, RawTable, Source, SourceOptions, sql_str

__all__ = ["SOURCE", "STATUSES"]

SRC = "jira"
STATUSES: dict[str, tuple[str, str | None]] = {
    "open": ("new", None),
    "to do": ("new", None),
    "new": ("new", None),
    "waiting for support": ("new", None),
    "backlog": ("new", None),
    "escalated": ("assigned", None),
    "assigned": ("assigned", None),
    "in progress": ("in_progress", None),
    "work in progress": ("in_progress", None),
    "waiting for customer": ("pending", "awaiting_user"),
    "pending": ("pending", "unknown"),
    "waiting for vendor": ("pending", "awaiting_vendor"),
    "waiting for approval": ("pending", "awaiting_approval"),
    "resolved": ("resolved", None),
    "done": ("resolved", None),
    "closed": ("closed", None),
    "canceled": ("cancelled", None),
    "cancelled": ("cancelled", None),
    "declined": ("cancelled", None),
}
TYPES = {
    "incident": "incident",
    "service request": "request",
    "service request with approvals": "request",
    "problem": "problem",
    "change": "change",
    "task": "task",
    "sub-task": "task",
}
_FORMATS = ("%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


def _v(col: str) -> str:
    return f"nullif(trim({col}), '')"


def _ts(col: str, tz: str) -> str:
    v = _v(col)
    tries = ", ".join(f"try_strptime({v}, {sql_str(f)})" for f in _FORMATS)
    return f"coalesce(try_cast({v} AS TIMESTAMPTZ), timezone({sql_str(tz)}, coalesce({tries})))"


def _tables(session: IntakeSession) -> None:
    con = session.con
    con.execute("CREATE OR REPLACE TEMP TABLE jira_status (label VARCHAR, status VARCHAR, reason VARCHAR)")
    con.executemany("INSERT INTO jira_status VALUES (?, ?, ?)", [(k, *v) for k, v in STATUSES.items()])
    con.execute("CREATE OR REPLACE TEMP TABLE jira_type (label VARCHAR, ticket_type VARCHAR)")
    con.executemany("INSERT INTO jira_type VALUES (?, ?)", list(TYPES.items()))


def _read_csv(session: IntakeSession, path: Path, tz: str) -> None:
    raw: RawTable = session.load(path, source=SRC, required=("Issue key", "Status", "Created"))
    c, o = raw.col, raw.col_or_null
    session.quarantine_missing(raw, column="Issue key")
    session.quarantine_unparseable(raw, column="Created", expr=_ts(c("Created"), tz))
    session.quarantine_where(
        raw,
        reason="unknown_status",
        column="Status",
        condition=f"lower({_v(c('Status'))}) NOT IN (SELECT label FROM jira_status)",
        detail=f"'status ' || {c('Status')} || ' has no canonical meaning; map it with --mapping'",
    )
    components = raw.cols("Component/s")
    service = f"coalesce({', '.join(_v(x) for x in components)})" if components else "NULL"
    sla = o("Custom field (Time to resolution)")
    session.emit(
        "ticket",
        f"""
        SELECT '{SRC}:' || trim({c("Issue key")}) AS ticket_id, '{SRC}' AS source, trim({c("Issue key")}) AS source_key,
               coalesce(ty.ticket_type, 'incident') AS ticket_type, {_v(o("Summary"))} AS title,
               {_v(o("Custom field (Request Type)"))} AS category,
               CASE WHEN {service} IS NOT NULL THEN '{SRC}:' || {service} END AS service_id,
               st.status, CASE WHEN st.status = 'pending' THEN st.reason END AS pending_reason,
               {_v(c("Status"))} AS status_raw,
               CASE lower({_v(o("Priority"))}) WHEN 'highest' THEN 1 WHEN 'critical' THEN 1 WHEN 'high' THEN 2
                    WHEN 'medium' THEN 3 WHEN 'low' THEN 4 WHEN 'lowest' THEN 4 END AS priority,
               {_v(o("Priority"))} AS priority_raw,
               CASE WHEN {_v(o("Assignee"))} IS NOT NULL THEN '{SRC}:' || {_v(o("Assignee"))} END AS assignee_id,
               CASE WHEN {_v(o("Reporter"))} IS NOT NULL THEN '{SRC}:' || {_v(o("Reporter"))} END AS requester_id,
               {_ts(c("Created"), tz)} AS opened_at, {_ts(o("Resolved"), tz)} AS resolved_at,
               {_v(o("Resolution"))} AS resolution_code_raw,
               CASE WHEN lower({_v(sla)}) LIKE '%breach%' THEN false WHEN lower({_v(sla)}) LIKE '%met%' THEN true END
                   AS sla_met,
               ? AS _file, _row
        FROM {raw.accepted} r
        LEFT JOIN jira_status st ON st.label = lower({_v(c("Status"))})
        LEFT JOIN jira_type ty ON ty.label = lower({_v(o("Issue Type"))})
        """,
        [raw.file],
    )
    session.emit(
        "event",
        f"""
        SELECT '{SRC}:' || trim({c("Issue key")}) AS ticket_id, {_ts(c("Created"), tz)} AS ts, 'created' AS kind,
               'new' AS to_status, 'derived' AS origin, '{SRC}' AS source, ? AS _file, _row FROM {raw.accepted}
        UNION ALL
        SELECT '{SRC}:' || trim({c("Issue key")}), {_ts(o("Resolved"), tz)}, 'resolve', 'resolved', 'derived', '{SRC}',
               ?, _row FROM {raw.accepted} WHERE {_ts(o("Resolved"), tz)} IS NOT NULL
        """,
        [raw.file, raw.file],
    )
    links = [(x, "caused_by") for x in raw.cols("Outward issue link (Causes)")]
    links += [(x, "related") for x in raw.cols("Outward issue link (Relates)")]
    for col, relation in links:
        session.emit(
            "link",
            f"SELECT '{SRC}:' || trim({c('Issue key')}) AS from_ticket_id, '{SRC}:' || trim({col}) AS to_ticket_id, "
            f"'{relation}' AS relation, '{SRC}' AS source FROM {raw.accepted} WHERE {_v(col)} IS NOT NULL",
        )
    for col in raw.cols("Inward issue link (Causes)"):
        session.emit(
            "link",
            f"SELECT '{SRC}:' || trim({c('Issue key')}) AS from_ticket_id, '{SRC}:' || trim({col}) AS to_ticket_id, "
            f"'caused_by' AS relation, '{SRC}' AS source FROM {raw.accepted} WHERE {_v(col)} IS NOT NULL",
        )


def _histories(data: Any) -> list[tuple[str, dict[str, Any]]]:
    issues = data.get("issues") if isinstance(data, dict) and "issues" in data else data
    if isinstance(issues, dict):
        issues = [issues]
    out = []
    for issue in issues or []:
        key = issue.get("key")
        log = issue.get("changelog") or {}
        for h in log.get("histories") or log.get("values") or []:
            out.append((key, h))
    return out


def _read_changelog(session: IntakeSession, path: Path, tz: str) -> None:
    rep = session.add_file(path, source=SRC)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IntakeError(f"not a Jira changelog JSON ({exc})", file=str(path)) from None
    rows: list[dict[str, Any]] = []
    for key, h in _histories(data):
        for item in h.get("items") or []:
            rows.append(
                {
                    "_row": len(rows) + 1,
                    "key": key,
                    "created": h.get("created"),
                    "author": (h.get("author") or {}).get("displayName"),
                    "field": item.get("field"),
                    "from_s": item.get("fromString"),
                    "to_s": item.get("toString"),
                }
            )
    rep.rows_read = len(rows)
    if not rows:
        return
    session.con.register("jira_log", pa.Table.from_pylist(rows))
    kind = (
        "CASE lower(field) WHEN 'status' THEN 'status_change' WHEN 'assignee' THEN 'assignee_change' "
        "WHEN 'priority' THEN 'priority_change' ELSE 'field_change' END"
    )
    session.emit(
        "event",
        f"""
        SELECT '{SRC}:' || key AS ticket_id,
               coalesce(try_cast(created AS TIMESTAMPTZ),
                        try_strptime(created, '%Y-%m-%dT%H:%M:%S.%g%z')) AS ts,
               {kind} AS kind, lower(field) AS field, from_s AS from_raw, to_s AS to_raw,
               CASE WHEN lower(field) = 'status' THEN st.status END AS to_status,
               CASE WHEN lower(field) = 'status' AND st.status = 'pending' THEN st.reason END AS pending_reason,
               CASE WHEN lower(field) = 'assignee' AND to_s IS NOT NULL THEN '{SRC}:' || to_s END AS to_agent_id,
               CASE WHEN author IS NOT NULL THEN '{SRC}:' || author END AS actor_id,
               'history' AS origin, '{SRC}' AS source, ? AS _file, _row
        FROM jira_log LEFT JOIN jira_status st ON st.label = lower(to_s)
        """,
        [str(path)],
    )
    session.con.unregister("jira_log")


def _read(session: IntakeSession, files: Sequence[Path], options: SourceOptions) -> None:
    tz = options.timezone or "UTC"
    _tables(session)
    for path in sorted(files, key=lambda p: p.suffix.lower() == ".json"):
        if path.suffix.lower() == ".json":
            _read_changelog(session, path, tz)
        else:
            _read_csv(session, path, tz)


SOURCE = Source(
    name=SRC,
    summary="Jira Service Management CSV export, with the REST changelog JSON when given",
    recognises=lambda p: p.name.lower().endswith((".csv", ".csv.gz", ".json")),
    read=_read,
)
