"""The simulated records in the layouts real tools export, for intake round trips:

- ``servicenow`` — the snapshot log (one row per update of an incident or request, the layout
  of the UCI ServiceNow event log) read by ``--source servicenow``;
- ``servicenow-list`` — the list export ``incident.csv`` with its ``sys_audit.csv`` history;
- ``jira`` — a Jira Service Management export: the issue CSV and the REST changelog JSON;
- ``xes`` — an XES event log (gzip), read by ``--source xes``.

Both are written from the canonical Parquet the simulator produced, with DuckDB doing the
carrying-forward of each ticket's state; only the final text formatting is Python.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import duckdb

__all__ = ["FORMATS", "write_jira", "write_servicenow", "write_servicenow_list", "write_xes"]

FORMATS = ("canonical", "jira", "servicenow", "servicenow-list", "xes")
_STATE = {
    "new": "New",
    "assigned": "Active",
    "in_progress": "Active",
    "resolved": "Resolved",
    "closed": "Closed",
    "cancelled": "Canceled",
}
_PENDING = {
    "awaiting_user": "Awaiting User Info",
    "awaiting_vendor": "Awaiting Vendor",
    "awaiting_problem": "Awaiting Problem",
    "awaiting_evidence": "Awaiting Evidence",
}
_PRIORITY = {1: "1 - Critical", 2: "2 - High", 3: "3 - Moderate", 4: "4 - Low"}
_JIRA_STATUS = {
    "new": "Open",
    "assigned": "Escalated",
    "in_progress": "In Progress",
    "resolved": "Resolved",
    "closed": "Closed",
    "cancelled": "Canceled",
}
_JIRA_PENDING = {"awaiting_user": "Waiting for customer", "awaiting_vendor": "Waiting for vendor"}
_JIRA_PRIORITY = {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ISO_MS = "%Y-%m-%dT%H:%M:%S.000+0000"


def _values(pairs: Mapping[Any, str]) -> str:
    return "(VALUES " + ", ".join(f"({k!r}, {v!r})" for k, v in pairs.items()) + ")"


def write_servicenow(canonical: Path, out: Path) -> int:
    """``incident_event_log.csv``: one row per event of every incident and request."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    fmt = "'%Y-%m-%d %H:%M:%S'"
    query = f"""
    WITH t AS (
        SELECT * FROM read_parquet('{canonical / "ticket.parquet"}') WHERE ticket_type IN ('incident', 'request')
    ),
    e AS (
        SELECT e.*, last_value(e.to_status IGNORE NULLS) OVER w AS state,
               last_value(CASE WHEN e.to_status IS NOT NULL THEN coalesce(e.pending_reason, '~') END IGNORE NULLS)
                   OVER w AS reason,
               last_value(e.to_group_id IGNORE NULLS) OVER w AS grp,
               last_value(e.to_agent_id IGNORE NULLS) OVER w AS agent,
               -- before a ticket's first priority change it had the priority that change left
               coalesce(last_value(CASE WHEN e.kind = 'priority_change' THEN e.to_raw END IGNORE NULLS) OVER w,
                        first_value(CASE WHEN e.kind = 'priority_change' THEN e.from_raw END IGNORE NULLS) OVER t)
                   AS prio
        FROM read_parquet('{canonical / "event.parquet"}') e
        WINDOW w AS (PARTITION BY e.ticket_id ORDER BY e.seq ROWS UNBOUNDED PRECEDING),
               t AS (PARTITION BY e.ticket_id ORDER BY e.seq ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    )
    SELECT t.source_key AS number,
           CASE WHEN e.state = 'pending' THEN coalesce(pr.label, 'Awaiting User Info') ELSE st.label END
               AS incident_state,
           (e.seq - 1)::INTEGER AS sys_mod_count,
           CASE t.sla_met WHEN true THEN 'true' WHEN false THEN 'false' ELSE '?' END AS made_sla,
           strftime(t.opened_at, {fmt}) AS opened_at, strftime(e.ts, {fmt}) AS sys_updated_at,
           coalesce(t.category, '?') AS category, coalesce(t.ci_id, '?') AS cmdb_ci,
           coalesce(p.label, '?') AS priority, coalesce(e.grp, '?') AS assignment_group,
           coalesce(e.agent, '?') AS assigned_to, coalesce(t.problem_id, '?') AS problem_id,
           coalesce(t.caused_by_change_id, '?') AS caused_by,
           coalesce(strftime(t.resolved_at, {fmt}), '?') AS resolved_at,
           coalesce(strftime(t.closed_at, {fmt}), '?') AS closed_at
    FROM e JOIN t USING (ticket_id)
    LEFT JOIN {_values(_STATE)} st(status, label) ON st.status = e.state
    LEFT JOIN {_values(_PENDING)} pr(reason, label) ON pr.reason = e.reason
    LEFT JOIN {_values(_PRIORITY)} p(num, label) ON p.num = coalesce(
        try_cast(regexp_extract(e.prio, '(\\d)', 1) AS INTEGER), t.priority)
    ORDER BY number, sys_mod_count
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({query}) TO ? (HEADER, DELIMITER ',')", [str(out)])
    [(n,)] = con.execute("SELECT count(*) FROM read_csv(?, all_varchar := true)", [str(out)]).fetchall()
    return int(n)


def write_xes(canonical: Path, out: Path) -> int:
    """``log.xes.gz``: one trace per ticket, one event per canonical event."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = con.execute(
        f"""
        SELECT t.source_key, t.ticket_type, e.kind, e.to_status, strftime(e.ts, '%Y-%m-%dT%H:%M:%S.%g+00:00'),
               e.to_group_id, e.to_agent_id
        FROM read_parquet('{canonical / "event.parquet"}') e
        JOIN read_parquet('{canonical / "ticket.parquet"}') t USING (ticket_id)
        ORDER BY t.source_key, e.seq
        """
    ).fetchall()
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8") as fh:
        fh.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n'
        )
        current = None
        for key, ttype, kind, status, ts, group, agent in rows:
            if key != current:
                if current is not None:
                    fh.write("  </trace>\n")
                fh.write(
                    f'  <trace><string key="concept:name" value={quoteattr(key)}/>'
                    f'<string key="ticket_type" value={quoteattr(ttype)}/>\n'
                )
                current = key
            activity = kind if status is None else f"{kind}:{status}"
            parts = [
                f'<string key="concept:name" value={quoteattr(activity)}/>',
                f'<date key="time:timestamp" value="{ts}"/>',
                '<string key="lifecycle:transition" value="complete"/>',
            ]
            if group:
                parts.append(f'<string key="org:group" value={quoteattr(group)}/>')
            if agent:
                parts.append(f'<string key="org:resource" value={quoteattr(agent)}/>')
            fh.write("    <event>" + "".join(parts) + "</event>\n")
        if current is not None:
            fh.write("  </trace>\n")
        fh.write("</log>\n")
    return len(rows)


def write_servicenow_list(canonical: Path, folder: Path) -> tuple[int, int]:
    """``incident.csv`` (one row per incident or request, with a ``sys_id``) and
    ``sys_audit.csv`` (state, group and assignee changes) — the list export with its history."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    fmt = "'%Y-%m-%d %H:%M:%S'"
    folder.mkdir(parents=True, exist_ok=True)
    tickets = f"read_parquet('{canonical / 'ticket.parquet'}')"
    con.execute(
        f"""
        COPY (
            SELECT source_key AS number, 'sys' || source_key AS sys_id, st.label AS state,
                   strftime(opened_at, {fmt}) AS opened_at, strftime(resolved_at, {fmt}) AS resolved_at,
                   strftime(closed_at, {fmt}) AS closed_at, assigned_group_id AS assignment_group,
                   assignee_id AS assigned_to, p.label AS priority, category, ci_id AS cmdb_ci,
                   CASE sla_met WHEN true THEN 'true' WHEN false THEN 'false' END AS made_sla,
                   problem_id, caused_by_change_id AS caused_by
            FROM {tickets} t
            LEFT JOIN {_values(_STATE | {"pending": "On Hold"})} st(status, label) ON st.status = t.status
            LEFT JOIN {_values(_PRIORITY)} p(num, label) ON p.num = t.priority
            WHERE ticket_type IN ('incident', 'request') ORDER BY number
        ) TO ? (HEADER, DELIMITER ',')
        """,
        [str(folder / "incident.csv")],
    )
    con.execute(
        f"""
        COPY (
            SELECT 'incident' AS tablename, 'sys' || t.source_key AS documentkey,
                   CASE WHEN e.kind = 'group_change' THEN 'assignment_group' ELSE 'state' END AS fieldname,
                   NULL AS oldvalue,
                   CASE WHEN e.kind = 'group_change' THEN e.to_group_id
                        WHEN e.to_status = 'pending' THEN coalesce(pr.label, 'Awaiting User Info')
                        ELSE st.label END AS newvalue,
                   strftime(e.ts, {fmt}) AS sys_created_on, coalesce(e.to_agent_id, 'system') AS user
            FROM read_parquet('{canonical / "event.parquet"}') e JOIN {tickets} t USING (ticket_id)
            LEFT JOIN {_values(_STATE)} st(status, label) ON st.status = e.to_status
            LEFT JOIN {_values(_PENDING)} pr(reason, label) ON pr.reason = e.pending_reason
            WHERE e.kind = 'group_change' OR e.to_status IS NOT NULL
            ORDER BY documentkey, e.seq
        ) TO ? (HEADER, DELIMITER ',')
        """,
        [str(folder / "sys_audit.csv")],
    )
    [(n_list,)] = con.execute("SELECT count(*) FROM read_csv(?)", [str(folder / "incident.csv")]).fetchall()
    [(n_audit,)] = con.execute("SELECT count(*) FROM read_csv(?)", [str(folder / "sys_audit.csv")]).fetchall()
    return int(n_list), int(n_audit)


def _jira_time(ts: datetime) -> str:
    """Jira's CSV date: ``05/Jan/26 09:03 AM`` (minute precision, English month)."""
    return f"{ts.day:02d}/{_MONTHS[ts.month - 1]}/{ts:%y} {ts:%I:%M %p}"


def _jira_events(con: duckdb.DuckDBPyConnection, canonical: Path) -> list[tuple[Any, ...]]:
    """Each event of an incident or request with its ticket's state after and before it."""
    return con.execute(
        f"""
        WITH e AS (
            SELECT e.ticket_id, e.seq, e.ts, e.kind, e.from_raw, e.to_raw,
                   last_value(CASE WHEN e.kind = 'reopen' THEN 'Reopened'
                                   WHEN e.to_status = 'pending' THEN coalesce(pr.label, 'Pending')
                                   ELSE st.label END IGNORE NULLS) OVER w AS status,
                   last_value(e.to_status IGNORE NULLS) OVER w AS state,
                   last_value(e.to_group_id IGNORE NULLS) OVER w AS grp,
                   last_value(e.to_agent_id IGNORE NULLS) OVER w AS agent
            FROM read_parquet('{canonical / "event.parquet"}') e
            LEFT JOIN {_values(_JIRA_STATUS)} st(status, label) ON st.status = e.to_status
            LEFT JOIN {_values(_JIRA_PENDING)} pr(reason, label) ON pr.reason = e.pending_reason
            WINDOW w AS (PARTITION BY e.ticket_id ORDER BY e.seq ROWS UNBOUNDED PRECEDING)
        )
        SELECT t.source_key, e.seq, e.ts, e.kind, e.from_raw, e.to_raw, e.status, e.state, e.grp, e.agent,
               lag(e.status) OVER p, lag(e.state) OVER p, lag(e.grp) OVER p, lag(e.agent) OVER p
        FROM e JOIN read_parquet('{canonical / "ticket.parquet"}') t USING (ticket_id)
        WHERE t.ticket_type IN ('incident', 'request')
        WINDOW p AS (PARTITION BY e.ticket_id ORDER BY e.seq)
        ORDER BY t.source_key, e.seq
        """
    ).fetchall()


def write_jira(canonical: Path, folder: Path) -> tuple[int, int]:
    """A Jira Service Management export of the incidents and requests: ``jira_export.csv`` (the
    issue CSV: current status, team, assignee, priority, category, CI, SLA outcome, resolution,
    satisfaction rating, last resolution, the customers' comments, ``Causes`` and
    ``Problem/Incident`` links) and ``jira_changelog.json`` (the REST
    search with ``expand=changelog``: status, team, assignee and priority changes).

    Returns (issues, changelog items). A customer's reply is a comment by the reporter with the
    status change it triggers; a reopen goes through JSM's ``Reopened`` status."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    folder.mkdir(parents=True, exist_ok=True)
    tickets = con.execute(
        f"""
        SELECT t.source_key, t.ticket_type, t.title, t.priority, t.service_id, t.caused_by_change_id, t.problem_id,
               t.category, t.ci_id, CASE t.sla_met WHEN true THEN 'met' WHEN false THEN 'breached' END,
               CASE t.resolution_code WHEN 'rejected' THEN 'Won''t Do' WHEN 'solved' THEN 'Done' END,
               s.score::INTEGER, s.answered_at
        FROM read_parquet('{canonical / "ticket.parquet"}') t
        LEFT JOIN read_parquet('{canonical / "survey_response.parquet"}') s USING (ticket_id)
        WHERE t.ticket_type IN ('incident', 'request') ORDER BY t.source_key
        """
    ).fetchall()
    histories: dict[str, list[dict[str, Any]]] = {}
    comments: dict[str, list[str]] = {}
    final: dict[str, tuple[Any, ...]] = {}
    resolved: dict[str, datetime | None] = {}
    items_written = 0
    for (
        key,
        seq,
        ts,
        kind,
        from_raw,
        to_raw,
        status,
        state,
        grp,
        agent,
        p_status,
        p_state,
        p_grp,
        p_agent,
    ) in _jira_events(con, canonical):
        final[key] = (status, grp, agent)
        reporter = f"customer-{key}"
        if state in ("resolved", "closed") and p_state not in ("resolved", "closed"):
            resolved[key] = ts
        elif state not in ("resolved", "closed"):
            resolved[key] = None
        if kind == "created":
            continue
        items: list[dict[str, Any]] = []
        if status != p_status:
            items.append({"field": "status", "fromString": p_status, "toString": status})
        if grp != p_grp:
            items.append({"field": "Team", "fromString": p_grp, "toString": grp})
        if agent != p_agent:
            items.append({"field": "assignee", "fromString": p_agent, "toString": agent})
        if kind == "priority_change":
            items.append(
                {
                    "field": "priority",
                    "fromString": _JIRA_PRIORITY.get(from_raw, from_raw),
                    "toString": _JIRA_PRIORITY.get(to_raw, to_raw),
                }
            )
        if kind == "customer_reply":
            comments.setdefault(key, []).append(f"{_jira_time(ts)};{reporter};Here is what you asked for.")
        if items:
            author = reporter if kind == "customer_reply" else agent or "automation"
            histories.setdefault(key, []).append(
                {"id": str(seq), "author": {"displayName": author}, "created": ts.strftime(_ISO_MS), "items": items}
            )
            items_written += len(items)
    width = max((len(c) for c in comments.values()), default=0)
    header = [
        "Summary",
        "Issue key",
        "Issue id",
        "Issue Type",
        "Status",
        "Priority",
        "Assignee",
        "Reporter",
        "Created",
        "Resolved",
        "Component/s",
        "Custom field (Team)",
        "Custom field (Category)",
        "Custom field (Configuration item)",
        "Custom field (Time to resolution)",
        "Resolution",
        "Satisfaction rating",
        "Custom field (Satisfaction date)",
        *["Comment"] * width,
        "Inward issue link (Causes)",
        "Inward issue link (Problem/Incident)",
    ]
    opened = dict(
        con.execute(f"SELECT source_key, opened_at FROM read_parquet('{canonical / 'ticket.parquet'}')").fetchall()
    )
    with (folder / "jira_export.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        for n, (
            key,
            ttype,
            title,
            priority,
            service,
            change,
            problem,
            category,
            ci,
            sla,
            resolution,
            stars,
            rated,
        ) in enumerate(tickets, start=10001):
            status, grp, agent = final.get(key, ("Open", None, None))
            done = resolved.get(key)
            said = comments.get(key, [])
            out.writerow(
                [
                    title,
                    key,
                    n,
                    "Service Request" if ttype == "request" else "Incident",
                    status,
                    _JIRA_PRIORITY.get(f"P{priority}", ""),
                    agent or "",
                    f"customer-{key}",
                    _jira_time(opened[key]),
                    _jira_time(done) if done else "",
                    service or "",
                    grp or "",
                    category or "",
                    ci or "",
                    sla or "",
                    resolution if done else "",  # Jira clears the resolution of a reopened issue
                    stars or "",
                    _jira_time(rated) if rated else "",
                    *said,
                    *[""] * (width - len(said)),
                    change or "",
                    problem or "",
                ]
            )
    issues = [
        {"key": key, "id": str(n), "changelog": {"histories": histories.get(key, [])}}
        for n, (key, *_rest) in enumerate(tickets, start=10001)
    ]
    (folder / "jira_changelog.json").write_text(json.dumps({"issues": issues}), encoding="utf-8")
    return len(tickets), items_written
