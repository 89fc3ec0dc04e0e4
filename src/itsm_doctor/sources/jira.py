"""Jira Service Management: the issue CSV export, with the REST changelog JSON when given.

CSV: one row per issue; repeated column names (``Comment``, ``Component/s``, ``Outward issue
link (Causes)`` …) are read as lists. Read: ``Issue key`` (required), ``Issue id``, ``Issue
Type``, ``Status`` (else ``Status Category``), ``Priority``, ``Summary``, ``Assignee``,
``Reporter`` / ``Reporter Id``, ``Created``, ``Resolved`` (the last resolution), ``Resolution``,
``Component/s`` (the service), the group field (see below), ``Custom field (Category)`` (else
``Custom field (Request Type)``) as the category, ``Custom field (Configuration item)`` or
``Custom field (Affected hardware)`` as the CI, ``Custom field (Time to resolution)``
("breached", "met", or the time left), ``Custom field (Request participants)``, ``Parent
key``, ``Satisfaction rating`` (1–5) with ``Custom field (Satisfaction date)``, every
``Comment`` (``date;author;text``) and every ``Outward / Inward issue link (<type>)``. Dates
are Jira's ``24/Nov/26 3:15 PM`` (also ISO); naive times are read in ``--timezone``.

Changelog JSON (``jira_changelog``): each item becomes an event (origin ``history``): status,
assignee, priority, the group field, any other field as a field change; comments there
replace the CSV's (they carry seconds and JSM's internal/public flag).

The mapping (``jira_mapping``; ``--mapping FILE`` to change it): the group field is the first
of ``Team``, ``Assignment group``, ``Component/s`` the export holds; link types read as
canonical links; priority names by rank; status names. A comment's author is the customer
(``customer_reply``) when the issue's reporter or a request participant, else an agent
(``comment_public``, or ``comment_internal`` for a JSM internal note).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from pathlib import Path

from itsm_doctor.sources.base import IntakeError, IntakeSession, RawTable, Source, SourceOptions, sql_str
from itsm_doctor.sources.jira_changelog import is_changelog, load_changelog
from itsm_doctor.sources.jira_events import emit_history, stage_history
from itsm_doctor.sources.jira_mapping import RESOLUTIONS, JiraMapping, group_field_names, load_jira_mapping

__all__ = ["SOURCE"]

SRC = "jira"
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
_LINK_RE = re.compile(r"^\s*(outward|inward)\s+issue\s+link\s*\((.+)\)\s*$", re.IGNORECASE)
_STATUS_CATEGORY = (
    "CASE lower({c}) WHEN 'to do' THEN 'new' WHEN 'in progress' THEN 'in_progress' "
    "WHEN 'done' THEN CASE WHEN lower({s}) LIKE '%closed%' THEN 'closed' ELSE 'resolved' END END"
)


def _v(col: str) -> str:
    """A cell as text, null when empty."""
    return f"nullif(trim({col}), '')"


def _ts(col: str, tz: str) -> str:
    v = _v(col)
    tries = ", ".join(f"try_strptime({v}, {sql_str(f)})" for f in _FORMATS)
    return f"coalesce(try_cast({v} AS TIMESTAMPTZ), timezone({sql_str(tz)}, coalesce({tries})))"


def _first(cols: list[str]) -> str:
    return f"coalesce({', '.join(_v(c) for c in cols)})" if cols else "NULL::VARCHAR"


def _participants(raw: RawTable) -> str:
    """The request participants, from every ``Custom field (Request participants)`` column
    (one name each, or several separated by commas), as a list."""
    cols = raw.cols("Custom field (Request participants)")
    if not cols:
        return "[]::VARCHAR[]"
    joined = f"concat_ws(',', {', '.join(_v(c) for c in cols)})"
    return f"list_filter(list_transform(string_split({joined}, ','), lambda x: trim(x)), lambda x: x <> '')"


def _id(expr: str) -> str:
    return f"CASE WHEN {expr} IS NOT NULL THEN '{SRC}:' || {expr} END"


def _tables(session: IntakeSession, mapping: JiraMapping) -> None:
    con = session.con
    con.execute("CREATE OR REPLACE TEMP TABLE jira_status (label VARCHAR, status VARCHAR, reason VARCHAR)")
    con.executemany("INSERT INTO jira_status VALUES (?, ?, ?)", mapping.status_table())
    con.execute("CREATE OR REPLACE TEMP TABLE jira_type (label VARCHAR, ticket_type VARCHAR)")
    con.executemany("INSERT INTO jira_type VALUES (?, ?)", list(TYPES.items()))
    con.execute("CREATE OR REPLACE TEMP TABLE jira_resolution (label VARCHAR, code VARCHAR)")
    con.executemany("INSERT INTO jira_resolution VALUES (?, ?)", list(RESOLUTIONS.items()))
    con.execute("CREATE OR REPLACE TEMP TABLE jira_priority (label VARCHAR, rank INTEGER)")
    con.executemany("INSERT INTO jira_priority VALUES (?, ?)", mapping.priority_table())


def _stage_issues(
    session: IntakeSession, raws: list[RawTable], tz: str, group: str | None, ci_fields: Sequence[str]
) -> None:
    """``jira_issue``: the accepted rows of every CSV with typed, named columns."""
    parts = []
    for raw in raws:
        c, o = raw.col, raw.col_or_null
        session.quarantine_missing(raw, column="Issue key")
        session.quarantine_unparseable(raw, column="Created", expr=_ts(c("Created"), tz))
        status = _v(c("Status"))
        category = _STATUS_CATEGORY.format(c=_v(o("Status Category")), s=status)
        session.quarantine_where(
            raw,
            reason="unknown_status",
            column="Status",
            condition=f"lower({status}) NOT IN (SELECT label FROM jira_status) AND ({category}) IS NULL",
            detail=f"'status ' || {c('Status')} || ' has no canonical meaning; map it with --mapping'",
        )
        group_cols = [x for h in (group_field_names(group)[0] if group else ()) for x in raw.cols(h)]
        ci_cols = [x for name in ci_fields for h in (name, f"Custom field ({name})") for x in raw.cols(h)]
        parts.append(
            f"""
            SELECT {sql_str(raw.file)} AS _file, _row, trim({c("Issue key")}) AS key, {_v(o("Issue id"))} AS issue_id,
                   lower({_v(o("Issue Type"))}) AS type_raw, {status} AS status_raw, {category} AS status_by_category,
                   {_v(o("Priority"))} AS priority_raw, {_v(o("Summary"))} AS title,
                   {_v(o("Assignee"))} AS assignee, {_v(o("Assignee Id"))} AS assignee_ref,
                   {_v(o("Reporter"))} AS reporter, {_v(o("Reporter Id"))} AS reporter_ref,
                   {_participants(raw)} AS participants,
                   {_ts(c("Created"), tz)} AS created, {_ts(o("Resolved"), tz)} AS resolved,
                   {_v(o("Resolution"))} AS resolution, {_first(raw.cols("Component/s"))} AS component,
                   {_first(group_cols)} AS grp, {_v(o("Custom field (Request Type)"))} AS request_type,
                   {_first(raw.cols("Custom field (Category)"))} AS category, {_first(ci_cols)} AS ci,
                   lower({_v(o("Custom field (Time to resolution)"))}) AS sla, {_v(o("Parent key"))} AS parent_key,
                   try_cast(regexp_extract({_first(raw.cols("Satisfaction rating"))}, '([0-9]+)', 1) AS DOUBLE)
                       AS csat,
                   {_ts(_first(raw.cols("Custom field (Satisfaction date)")), tz)} AS csat_at
            FROM {raw.accepted} r
            """
        )
    session.con.execute(f"CREATE OR REPLACE TEMP TABLE jira_issue AS {' UNION ALL BY NAME '.join(parts)}")
    session.con.execute(
        """
        CREATE OR REPLACE TEMP TABLE jira_people AS
        SELECT DISTINCT assignee_ref AS ref, assignee AS name FROM jira_issue WHERE assignee_ref IS NOT NULL
        UNION SELECT DISTINCT reporter_ref, reporter FROM jira_issue WHERE reporter_ref IS NOT NULL
        """
    )


def _stage_links(session: IntakeSession, raws: list[RawTable], mapping: JiraMapping) -> None:
    """``jira_link``: every issue link of the CSVs, as canonical (from key, to key, relation)."""
    parts = [
        "SELECT NULL::VARCHAR AS _file, NULL::BIGINT AS _row, NULL::VARCHAR AS from_key, NULL::VARCHAR AS to_key, "
        "NULL::VARCHAR AS relation "
        "WHERE false"
    ]
    unknown: set[str] = set()
    for raw in raws:
        key = f"trim({raw.col('Issue key')})"
        for i, header in enumerate(raw.header):
            m = _LINK_RE.match(header)
            if not m:
                continue
            direction, type_name = m.group(1).lower(), m.group(2)
            kind = mapping.link_type(type_name)
            if kind is None:
                unknown.add(type_name)
            relation = kind.relation if kind else "related"
            this_first = (kind.outward_from if kind else "this") == "this"
            if direction == "inward":
                this_first = not this_first
            linked = f"trim(c{i})"
            pair = (key, linked) if this_first else (linked, key)
            parts.append(
                f"SELECT {sql_str(raw.file)}, _row, {pair[0]}, {pair[1]}, {sql_str(relation)} "
                f"FROM {raw.accepted} WHERE {_v(f'c{i}')} IS NOT NULL"
            )
    session.con.execute(f"CREATE OR REPLACE TEMP TABLE jira_link AS {' UNION ALL '.join(parts)}")
    if unknown:
        session.notes.append(
            f"Jira link type(s) {', '.join(sorted(unknown))} read as 'related'; map them with --mapping link_types"
        )


def _emit_tickets(session: IntakeSession) -> None:
    session.emit(
        "ticket",
        f"""
        SELECT '{SRC}:' || i.key AS ticket_id, '{SRC}' AS source, i.key AS source_key,
               coalesce(ty.ticket_type, 'incident') AS ticket_type, i.title,
               coalesce(i.category, i.request_type) AS category, {_id("i.ci")} AS ci_id,
               {_id("i.component")} AS service_id, {_id("i.parent_key")} AS parent_ticket_id,
               coalesce(st.status, i.status_by_category) AS status,
               CASE WHEN coalesce(st.status, i.status_by_category) = 'pending' THEN coalesce(st.reason, 'unknown') END
                   AS pending_reason,
               i.status_raw, least(pr.rank, 4) AS priority, i.priority_raw,
               {_id("i.assignee")} AS assignee_id, {_id("i.reporter")} AS requester_id,
               {_id("i.grp")} AS assigned_group_id,
               i.created AS opened_at, coalesce(h.first_resolved, i.resolved) AS resolved_at,
               CASE WHEN i.resolution IS NOT NULL THEN coalesce(rc.code, 'other') END AS resolution_code,
               i.resolution AS resolution_code_raw,
               -- the cell says breached / met, or shows the time left (negative: the target passed);
               -- time left on an open issue is no outcome yet
               CASE WHEN i.sla LIKE '%breach%' THEN false WHEN i.sla LIKE '%met%' THEN true
                    WHEN regexp_matches(i.sla, '^- *[0-9]+:[0-9][0-9]') THEN false
                    WHEN regexp_matches(i.sla, '^[0-9]+:[0-9][0-9]') AND i.resolved IS NOT NULL THEN true END
                   AS sla_met,
               (SELECT min('{SRC}:' || l.from_key) FROM jira_link l WHERE l.relation = 'problem_of'
                   AND l.to_key = i.key) AS problem_id,
               (SELECT min('{SRC}:' || l.to_key) FROM jira_link l JOIN jira_issue o ON o.key = l.to_key
                   WHERE l.relation = 'caused_by' AND l.from_key = i.key AND o.type_raw = 'change')
                   AS caused_by_change_id,
               i._file, i._row
        FROM jira_issue i
        LEFT JOIN jira_status st ON st.label = lower(i.status_raw)
        LEFT JOIN jira_type ty ON ty.label = i.type_raw
        LEFT JOIN (SELECT label, rank FROM jira_priority
                   UNION ALL SELECT DISTINCT lower(priority_raw),
                                    try_cast(regexp_extract(priority_raw, '(\\d+)', 1) AS INTEGER)
                   FROM jira_issue WHERE lower(priority_raw) NOT IN (SELECT label FROM jira_priority)) pr
               ON pr.label = lower(i.priority_raw)
        LEFT JOIN jira_facts h ON h.key = i.key
        LEFT JOIN jira_resolution rc ON rc.label = lower(i.resolution)
        """,
    )
    # JSM's customer satisfaction: a rating of 1 to 5 stars, with the date it was given
    session.emit(
        "survey_response",
        f"""
        SELECT '{SRC}:' || key || ':csat' AS response_id, '{SRC}:' || key AS ticket_id,
               {_id("reporter")} AS respondent_id, csat_at AS answered_at, csat AS score,
               1.0 AS scale_min, 5.0 AS scale_max, (csat - 1.0) / 4.0 AS score_norm,
               'Satisfaction rating' AS source_question, '{SRC}' AS source
        FROM jira_issue WHERE csat BETWEEN 1 AND 5
        """,
    )
    session.emit(
        "link",
        f"SELECT DISTINCT '{SRC}:' || from_key AS from_ticket_id, '{SRC}:' || to_key AS to_ticket_id, relation, "
        f"'{SRC}' AS source FROM jira_link",
    )


def _at_creation(what: str, now: str) -> str:
    """The group (or assignee) an issue was created with: what its first change in the changelog
    left, else ``now`` (the CSV's current value) when the changelog shows no change of it.
    Without a changelog for the issue, unknown (null): a CSV alone shows no history."""
    return f"CASE WHEN h.key IS NOT NULL THEN CASE WHEN h.{what}_changed THEN h.first_{what} ELSE {now} END END"


def _emit_csv_events(session: IntakeSession, raws: list[RawTable], tz: str) -> None:
    """The events the CSV implies: creation (with the first group and assignee the history
    shows), the last resolution unless the history holds it, and comments."""
    session.emit(
        "event",
        f"""
        SELECT '{SRC}:' || i.key AS ticket_id, i.created AS ts, 0 AS seq, 'created' AS kind,
               coalesce(h.first_status, 'new') AS to_status, h.first_reason AS pending_reason,
               {_id(_at_creation("group", "i.grp"))} AS to_group_id,
               {_id(_at_creation("agent", "i.assignee"))} AS to_agent_id,
               'derived' AS origin, '{SRC}' AS source, i._file, i._row
        FROM jira_issue i LEFT JOIN jira_facts h ON h.key = i.key
        """,
    )
    # ``Resolved`` has minute precision: a changelog entry of that minute may come after it. The
    # history's own resolution wins; failing one, the resolve sorts after the minute's entries.
    session.emit(
        "event",
        f"""
        SELECT '{SRC}:' || i.key AS ticket_id,
               greatest(i.resolved, (SELECT max(x.ts) FROM jira_hist x WHERE x.key = i.key
                                     AND x.ts >= i.resolved AND x.ts < i.resolved + INTERVAL 1 MINUTE)) AS ts,
               2147483647 AS seq, 'resolve' AS kind, 'resolved' AS to_status,
               'derived' AS origin, '{SRC}' AS source, i._file, i._row
        FROM jira_issue i
        WHERE i.resolved IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM jira_hist x WHERE x.key = i.key AND x.to_status IN ('resolved', 'closed')
            AND x.ts >= i.resolved AND x.ts < i.resolved + INTERVAL 1 MINUTE)
        """,
    )
    for raw in raws:
        for col in raw.cols("Comment"):
            cell = _v(col)
            date, author = (f"regexp_extract({cell}, '^([^;]*);([^;]*);', {g})" for g in (1, 2))
            text = f"regexp_extract({cell}, '(?s)^[^;]*;[^;]*;(.*)$', 1)"
            ts = _ts(date, tz)
            session.emit(
                "event",
                f"""
                SELECT '{SRC}:' || i.key AS ticket_id, {ts} AS ts, 1 AS seq,
                       CASE WHEN {author} IN (i.reporter, i.reporter_ref)
                                 OR list_contains(i.participants, {author})
                            THEN 'customer_reply' ELSE 'comment_public' END AS kind,
                       'comment' AS field, {_id(f"coalesce(p.name, nullif({author}, ''))")} AS actor_id,
                       json_object('comment', {text}, 'author', {author}) AS raw,
                       'history' AS origin, '{SRC}' AS source, i._file, i._row
                FROM {raw.accepted} r JOIN jira_issue i ON i._file = {sql_str(raw.file)} AND i._row = r._row
                LEFT JOIN jira_people p ON p.ref = {author}
                WHERE {cell} IS NOT NULL AND {ts} IS NOT NULL
                  AND i.key NOT IN (SELECT key FROM jira_hist WHERE record = 'comment' AND key IS NOT NULL)
                """,
            )
            [(bad,)] = session.con.execute(
                f"SELECT count(*) FROM {raw.accepted} WHERE {cell} IS NOT NULL AND {ts} IS NULL"
            ).fetchall()
            if bad:
                session.report_for(raw.file).notes.append(
                    f"{bad} comment(s) in column {int(col[1:]) + 1} (Comment) have no readable date "
                    "(date;author;text): left out"
                )


def _group_field(
    raws: list[RawTable], logs: list[RawTable], session: IntakeSession, mapping: JiraMapping
) -> str | None:
    """The first of the mapping's group fields the export holds (CSV column or changelog field)."""
    fields: set[str] = set()
    for log in logs:
        fields |= {
            str(f).lower()
            for (f,) in session.con.execute(f"SELECT DISTINCT {log.col('field')} FROM {log.name}").fetchall()
            if f
        }
    for name in mapping.group_fields:
        csv, log_names = group_field_names(name)
        if any(raw.has(h) for raw in raws for h in csv) or fields & set(log_names):
            session.notes.append(f"Jira groups read from the field {name!r}")
            return name
    if mapping.group_fields:
        session.notes.append(
            f"no Jira group field found (tried {', '.join(mapping.group_fields)}): the records hold no group "
            "history, so reassignment and ping-pong are n/a; name the field with --mapping group_fields"
        )
    return None


def _read(session: IntakeSession, files: Sequence[Path], options: SourceOptions) -> None:
    mapping = load_jira_mapping(options.mapping)
    tz = options.timezone or mapping.timezone or "UTC"
    _tables(session, mapping)
    is_json = [p.name.lower().endswith((".json", ".json.gz")) for p in files]
    raws = [
        session.load(p, source=SRC, required=("Issue key", "Status", "Created"))
        for p, j in zip(files, is_json, strict=True)
        if not j
    ]
    if not raws:
        raise IntakeError(
            "a Jira changelog describes changes of issues the issue CSV export lists: give that CSV too",
            file=str(files[0]) if files else None,
        )
    logs = [load_changelog(session, p, source=SRC) for p, j in zip(files, is_json, strict=True) if j]
    group = _group_field(raws, logs, session, mapping)
    _stage_issues(session, raws, tz, group, mapping.ci_fields)
    stage_history(session, logs, group=group)
    _stage_links(session, raws, mapping)
    _emit_tickets(session)
    _emit_csv_events(session, raws, tz)
    emit_history(session, group=group)
    if raws and tz == "UTC" and options.timezone is None and mapping.timezone is None:
        session.notes.append("Jira CSV times carry no offset: read as UTC (give --timezone to change)")


def _recognises(path: Path) -> bool:
    """A CSV whose header names ``Issue key``, or a changelog JSON; nothing else in a folder."""
    name = path.name.lower()
    if name.startswith("."):
        return False
    if name.endswith((".json", ".json.gz")):
        return is_changelog(path)
    if not name.endswith((".csv", ".csv.gz")):
        return False
    try:
        with path.open("rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        with gzip.open(path, "rb") if gz else path.open("rb") as fh:
            first = fh.readline(1 << 16).decode("utf-8", errors="replace").lower()
    except (OSError, EOFError):
        return False
    return "issue key" in first


SOURCE = Source(
    name=SRC,
    summary="Jira Service Management CSV export, with the REST changelog JSON when given",
    recognises=_recognises,
    read=_read,
)
