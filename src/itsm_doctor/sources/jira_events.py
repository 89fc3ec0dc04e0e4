"""The Jira changelog and comments as canonical events (the CSV's issues are ``jira_issue``).

``stage_history`` types the changelog rows (``jira_hist``) and sums up what the CSV's own
events need from them (``jira_facts``: the first status, group and assignee, the first
resolution); ``emit_history`` writes them as events with origin ``history``.
"""

from __future__ import annotations

from itsm_doctor.sources.base import IntakeSession, RawTable, sql_str
from itsm_doctor.sources.jira_mapping import group_field_names

__all__ = ["emit_history", "stage_history"]

SRC = "jira"
_ISO = "%Y-%m-%dT%H:%M:%S.%g%z"


def _ts(col: str) -> str:
    v = f"nullif(trim({col}), '')"
    return f"coalesce(try_cast({v} AS TIMESTAMPTZ), try_strptime({v}, {sql_str(_ISO)}))"


def _group_names(group: str | None) -> str:
    names = group_field_names(group)[1] if group else ()
    return "(" + ", ".join(sql_str(n) for n in names) + ")" if names else "(NULL)"


def stage_history(session: IntakeSession, logs: list[RawTable], *, group: str | None) -> None:
    """``jira_hist`` (accepted changelog rows, typed, keyed by issue key) and ``jira_facts``."""
    con = session.con
    parts = [
        "SELECT NULL::VARCHAR AS _file, NULL::BIGINT AS _row, NULL::VARCHAR AS record, NULL::VARCHAR AS key, "
        "NULL::TIMESTAMPTZ AS ts, NULL::VARCHAR AS field, NULL::VARCHAR AS from_id, NULL::VARCHAR AS from_s, "
        "NULL::VARCHAR AS to_id, NULL::VARCHAR AS to_s, NULL::VARCHAR AS author, NULL::VARCHAR AS author_ref, "
        "NULL::VARCHAR AS public, NULL::VARCHAR AS body, NULL::BOOLEAN AS dated, NULL::VARCHAR AS to_status, "
        "NULL::VARCHAR AS reason, NULL::VARCHAR AS from_status, NULL::VARCHAR AS from_reason, "
        "NULL::BOOLEAN AS is_group WHERE false"
    ]
    renamed = False
    # each changelog row's issue key (the CSV's key for a bulk changelog's issue id) and time,
    # computed once: as correlated subqueries inside the quarantine conditions they made the
    # reading quadratic (243 k rows: 487 s)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE jira_issue_by_id AS SELECT issue_id, min(key) AS key FROM jira_issue "
        "WHERE issue_id IS NOT NULL GROUP BY issue_id"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE jira_issue_opened AS SELECT key, min(created) AS created FROM jira_issue "
        "WHERE key IS NOT NULL GROUP BY key"
    )
    for log in logs:
        c = log.col
        keyed = f"{log.name}_key"
        [(before,)] = con.execute(f"SELECT count(*) FROM {log.name} WHERE _q IS NOT NULL").fetchall()
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {keyed} AS
            SELECT h.*, CASE WHEN h.field = 'status' THEN st.status END AS to_status,
                   CASE WHEN h.field = 'status' AND st.status = 'pending' THEN st.reason END AS reason,
                   CASE WHEN h.field = 'status' THEN fs.status END AS from_status,
                   CASE WHEN h.field = 'status' AND fs.status = 'pending' THEN fs.reason END AS from_reason,
                   h.field IN {_group_names(group)} AS is_group
            FROM (
            SELECT {sql_str(log.file)} AS _file, l._row, l.{c("record")} AS record,
                   coalesce(nullif(trim(l.{c("issue key")}), ''), b.key) AS key, {_ts("l." + c("created"))} AS ts,
                   lower(l.{c("field")}) AS field, l.{c("from")} AS from_id, l.{c("from string")} AS from_s,
                   l.{c("to")} AS to_id, l.{c("to string")} AS to_s, l.{c("author")} AS author,
                   l.{c("author id")} AS author_ref, l.{c("public")} AS public, l.{c("body")} AS body,
                   nullif(trim(l.{c("created")}), '') IS NOT NULL AS dated
            FROM {log.accepted} l LEFT JOIN jira_issue_by_id b ON b.issue_id = l.{c("issue id")}
            ) h
            LEFT JOIN jira_status st ON st.label = lower(h.to_s)
            LEFT JOIN jira_status fs ON fs.label = lower(h.from_s)
            """
        )
        session.quarantine_where(
            log,
            reason="missing_key",
            column="issue key",
            condition=f"_row IN (SELECT _row FROM {keyed} WHERE key IS NULL)",
            detail=f"coalesce('issue id ' || {c('issue id')} || ' names no issue of the CSV export', 'empty')",
        )
        # the time parsed once, above (quarantine_unparseable would parse every row again)
        session.quarantine_where(
            log,
            reason="unparseable_time",
            column="created",
            condition=f"_row IN (SELECT _row FROM {keyed} WHERE dated AND ts IS NULL)",
            detail=f"'cannot read ' || {c('created')} || ' as a time'",
        )
        # the same history entry or comment twice (overlapping search pages): once is enough
        session.quarantine_duplicates(log)
        # what intake would quarantine after emission, quarantined now: these rows must not
        # lend the tickets a first resolution or group either (same reasons as intake/derive)
        session.quarantine_where(
            log,
            reason="unknown_ticket",
            condition=f"_row IN (SELECT k._row FROM {keyed} k ANTI JOIN jira_issue_opened i USING (key) "
            "WHERE k.key IS NOT NULL)",
            detail="'the event names a ticket no file describes'",
        )
        session.quarantine_where(
            log,
            reason="event_before_creation",
            condition=f"_row IN (SELECT k._row FROM {keyed} k JOIN jira_issue_opened i USING (key) "
            "WHERE k.ts < i.created - INTERVAL 1 MINUTE)",
            detail="'an event is dated before its ticket was opened'",
        )
        [(after,)] = con.execute(f"SELECT count(*) FROM {log.name} WHERE _q IS NOT NULL").fetchall()
        if len(logs) == 1 and after == before:
            # one changelog, no row of it quarantined here: its typed rows are the history as
            # they are (no second copy of every item)
            con.execute("DROP TABLE IF EXISTS jira_hist")
            con.execute(f"ALTER TABLE {keyed} RENAME TO jira_hist")
            renamed = True
        else:
            # the typed rows less the few quarantined since: an anti join on those, not a join
            # of every row back to the text table
            parts.append(
                f"SELECT * FROM {keyed} ANTI JOIN (SELECT _row FROM {log.name} WHERE _q IS NOT NULL) q USING (_row)"
            )
    if not renamed:
        con.execute(f"CREATE OR REPLACE TEMP TABLE jira_hist AS {' UNION ALL '.join(parts)}")
        for log in logs:
            con.execute(f"DROP TABLE {log.name}_key")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE jira_facts AS
        SELECT key,
               min(ts) FILTER (WHERE to_status IN ('resolved', 'closed')) AS first_resolved,
               arg_min(from_status, (ts, _row)) FILTER (WHERE field = 'status') AS first_status,
               arg_min(from_reason, (ts, _row)) FILTER (WHERE field = 'status') AS first_reason,
               bool_or(is_group) AS group_changed,
               arg_min(from_s, (ts, _row)) FILTER (WHERE is_group) AS first_group,
               bool_or(field = 'assignee') AS agent_changed,
               arg_min(from_s, (ts, _row)) FILTER (WHERE field = 'assignee') AS first_agent
        FROM jira_hist WHERE record = 'history' GROUP BY key
        """
    )
    unknown = con.execute(
        "SELECT DISTINCT to_s FROM jira_hist WHERE field = 'status' AND to_status IS NULL AND to_s IS NOT NULL "
        "ORDER BY 1 LIMIT 10"
    ).fetchall()
    if unknown:
        session.notes.append(
            "Jira changelog status(es) with no canonical meaning, kept as raw status changes: "
            f"{', '.join(str(u) for (u,) in unknown)}; map them with --mapping statuses"
        )


def emit_history(session: IntakeSession, *, group: str | None) -> None:
    """Every staged changelog item and REST comment as an event."""
    # the rank of a priority name: a join each (jira_priority's labels are unique), not a
    # correlated subquery, which DuckDB ran as two more passes over every item
    ranked = (
        "CASE WHEN h.{v} IS NULL OR regexp_matches(h.{v}, '\\d') THEN h.{v} "
        "ELSE coalesce({p}.rank || ' - ', '') || h.{v} END"
    )
    agent = "CASE WHEN h.field = 'assignee' AND {v} IS NOT NULL THEN '" + SRC + ":' || {v} END"
    grp = "CASE WHEN h.is_group AND {v} IS NOT NULL THEN '" + SRC + ":' || {v} END"
    session.emit(
        "event",
        f"""
        SELECT '{SRC}:' || h.key AS ticket_id, h.ts, 1 AS seq,
               CASE WHEN h.field = 'status' THEN 'status_change' WHEN h.field = 'assignee' THEN 'assignee_change'
                    WHEN h.field = 'priority' THEN 'priority_change' WHEN h.is_group THEN 'group_change'
                    ELSE 'field_change' END AS kind,
               h.field,
               -- a priority name carries its rank ("2 - High"), as ServiceNow's display values do;
               -- the exact source strings stay in raw
               CASE WHEN h.field = 'priority' THEN {ranked.format(v="from_s", p="pf")} ELSE h.from_s END AS from_raw,
               CASE WHEN h.field = 'priority' THEN {ranked.format(v="to_s", p="pt")} ELSE h.to_s END AS to_raw,
               h.to_status, h.reason AS pending_reason,
               {grp.format(v="h.to_s")} AS to_group_id, {agent.format(v="h.to_s")} AS to_agent_id,
               CASE WHEN h.author IS NOT NULL THEN '{SRC}:' || h.author END AS actor_id,
               json_object('from', h.from_id, 'fromString', h.from_s, 'to', h.to_id, 'toString', h.to_s) AS raw,
               'history' AS origin, '{SRC}' AS source, h._file, h._row
        FROM jira_hist h
        LEFT JOIN jira_priority pf ON h.field = 'priority' AND pf.label = lower(h.from_s)
        LEFT JOIN jira_priority pt ON h.field = 'priority' AND pt.label = lower(h.to_s)
        WHERE h.record = 'history'
        """,
    )
    session.emit(
        "event",
        f"""
        SELECT '{SRC}:' || h.key AS ticket_id, h.ts, 1 AS seq,
               CASE WHEN h.author_ref IN (i.reporter_ref) OR h.author IN (i.reporter)
                         OR list_contains(i.participants, h.author) OR list_contains(i.participants, h.author_ref)
                    THEN 'customer_reply'
                    WHEN h.public = 'false' THEN 'comment_internal' ELSE 'comment_public' END AS kind,
               'comment' AS field,
               CASE WHEN h.author IS NOT NULL THEN '{SRC}:' || h.author END AS actor_id,
               json_object('comment', h.body, 'author', h.author_ref, 'public', h.public) AS raw,
               'history' AS origin, '{SRC}' AS source, h._file, h._row
        FROM jira_hist h LEFT JOIN (SELECT DISTINCT ON (key) * FROM jira_issue) i ON i.key = h.key
        WHERE h.record = 'comment'
        """,
    )
    session.emit(
        "group",
        f"""
        SELECT DISTINCT '{SRC}:' || name AS group_id, name, 'unknown' AS kind, '{SRC}' AS source, name AS source_id
        FROM (SELECT grp AS name FROM jira_issue
              UNION SELECT from_s FROM jira_hist WHERE is_group UNION SELECT to_s FROM jira_hist WHERE is_group)
        WHERE name IS NOT NULL
        """,
    )
