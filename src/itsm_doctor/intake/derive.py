"""Rules every source shares once its rows are staged (domain/sources.md §7.4).

All of it is SQL on the intake session's DuckDB connection:

1. a ticket id seen twice is a ``duplicate_key``; an event of an unknown ticket is an
   ``unknown_ticket``; an event before its ticket was opened is ``event_before_creation``;
2. events get their order (``seq``) and id, and the state they leave (``from_*``);
3. a move from resolved/closed back to an open status becomes a ``reopen`` event;
4. tickets get what the events reveal when the export did not say it;
5. ``status_interval`` is built from the events (one row per stretch of equal
   status, pending reason, group and assignee).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from itsm_doctor.records.schema import TABLES, duckdb_columns
from itsm_doctor.sources.base import IntakeSession, TicketRowEvents, quote_ident

__all__ = ["derive", "final_event_sql"]

_OPEN = "('new', 'assigned', 'in_progress', 'pending')"


def derive(session: IntakeSession) -> None:
    """Validate staged rows and complete the derived tables, in place."""
    con = session.con
    rows = _row_events(session)
    if rows is None:
        session.stage_ticket_row_events()  # beside other events: ordered by the windows with them
    _quarantine_after_emit(session, rows)
    if rows is None:
        _order_events(session)
    else:
        _order_events_by_row(session, rows)
    if rows is not None or (session.keyed_events and not session.whole_events):
        con.execute("DROP TABLE stage_event")  # the keys hold all the events the rest needs
    _complete_tickets(session, rows)
    _build_intervals(session, rows)
    for table in TABLES:
        if table not in ("ticket", "event", "status_interval"):
            cols = ", ".join(quote_ident(n) for n, _ in duckdb_columns(table))
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {quote_ident('final_' + table)} AS "
                f"SELECT DISTINCT {cols} FROM {quote_ident('stage_' + table)}"
            )


def _order_events(session: IntakeSession) -> None:
    """Number each ticket's events (``seq``) and fill what the events before tell.

    The windows run over a narrow projection (``_ev_keys``: order keys, states and, per
    event, the state before it as ``p_*``), which also feeds the tickets' completion and
    the status intervals. The events written are the staged rows (or, for an emission by
    row, its relation read again) joined to their keys: see ``final_event_sql``."""
    con = session.con
    mark = "CASE WHEN to_status IS NOT NULL OR kind = 'pending_reason_change' THEN coalesce(pending_reason, '~') END"
    carried = {"p_status": "to_status", "p_group": "to_group_id", "p_agent": "to_agent_id", "p_reason": mark}
    [(events, *gaps)] = con.execute(
        "SELECT count(*), "
        + ", ".join(f"count(*) FILTER (WHERE ({e}) IS NULL)" for e in carried.values())
        + " FROM stage_event"
    ).fetchall()
    # the last value known before an event; where a column has no gap that is simply the
    # previous event's (lag is a third cheaper than last_value IGNORE NULLS on 10 M events),
    # and where it holds nothing at all (no event of the export moves a group), nothing
    before = ", ".join(
        (
            "NULL::VARCHAR "
            if n == events
            else f"lag({e}) OVER w "
            if not n
            else f"last_value({e} IGNORE NULLS) OVER before "
        )
        + f"AS {name}"
        for (name, e), n in zip(carried.items(), gaps, strict=True)
    )
    # events of one ticket at one time keep their files' order (by name): a file's rank, not its
    # name, in the sort key (a long path compared on every tie cost a third of the sort), and
    # nothing when all events come from one file
    found = [f for (f,) in con.execute("SELECT DISTINCT _file FROM stage_event").fetchall()]
    by_name = sorted((f for f in found if f is not None), key=lambda k: session.file_path(k))
    whens = " ".join(f"WHEN {_lit(f)} THEN {i}" for i, f in enumerate(by_name))
    rank = "" if len(found) < 2 else f"CASE _file {whens} END, "  # no file (NULL) sorts last, as before
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ev_keys AS
        SELECT _eid AS rid, _emission, _row, ticket_id, ts, to_status, pending_reason, to_group_id, to_agent_id,
               {mark} AS reason_mark, (row_number() OVER w)::INTEGER AS seq, {before}
        FROM stage_event
        WINDOW w AS (PARTITION BY ticket_id ORDER BY ts, coalesce(seq, 0), {rank}_row),
               before AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        """
    )


def _row_events(session: IntakeSession) -> TicketRowEvents | None:
    """The events' ticket-row form when every staged event has it (else the windows run)."""
    return session.events_by_ticket_row


def _row_list(rows: TicketRowEvents) -> str:
    """Over a staged ticket row: its events in their order — by time, then by item (the window's
    order: one row is one ticket, file and ``_row``); NULL for a row of another file."""
    files = ", ".join(_lit(f) for f in rows.files)
    return (
        f"CASE WHEN _file IN ({files}) THEN list_sort(list_filter({rows.events_sql()}, lambda x: x.ts IS NOT NULL)) END"
    )


def _order_events_by_row(session: IntakeSession, rows: TicketRowEvents) -> None:
    """``_ev_keys`` as ``_order_events`` makes it, when every event comes from its ticket's row
    (``IntakeSession.emit_ticket_row_events``): a projection of the ticket rows, no window.

    Each ticket id is one staged row by now (a second row or file for it is quarantined), so a
    row's list ``L`` is its ticket's events. Every item reaches a status and has no pending
    reason, group or agent: the state before an event is the previous item's status, and
    ``p_reason`` the previous event's mark (``'~'``). The positions ``S`` of the events that
    change the status start the status intervals: each event also says whether it starts one
    (``iv_start``), its number (``iv_seq``) and when the next starts (``iv_end``), so the
    intervals need no window either (``_build_intervals``), nor the tickets an aggregation and a
    join (``_row_facts``). Znuny at 10 M rows (20 M events), same machine: 179 s → 123 s."""
    starts = "list_filter(range(1, len(L) + 1), lambda j: j = 1 OR L[j - 1].to_status IS DISTINCT FROM L[j].to_status)"
    session.con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ev_keys AS
        SELECT ticket_id, e.ts, e.to_status, e.kind, source, i::INTEGER AS seq, L[i - 1].to_status AS p_status,
               list_position(S, i) IS NOT NULL AS iv_start, list_position(S, i)::INTEGER AS iv_seq,
               L[S[list_position(S, i) + 1]].ts AS iv_end
        FROM (SELECT ticket_id, source, _file, _row, L, S, unnest(L) AS e, generate_subscripts(L, 1) AS i
              FROM (SELECT *, {starts} AS S
                    FROM (SELECT ticket_id, source, _file, _row, {_row_list(rows)} AS L FROM stage_ticket)))
        """
    )


# What the events before fill in, given the staged event ``e`` and its keys ``k``.
_DERIVED = {
    "seq": "k.seq",
    "event_id": "coalesce({event_id}, {ticket_id} || ':' || k.seq)",
    "from_status": "coalesce({from_status}, k.p_status)",
    "from_group_id": "coalesce({from_group_id}, k.p_group)",
    "from_agent_id": "coalesce({from_agent_id}, k.p_agent)",
    "kind": (
        f"CASE WHEN {{to_status}} IN {_OPEN} AND coalesce({{from_status}}, k.p_status) IN ('resolved', 'closed') "
        "THEN 'reopen' ELSE {kind} END"
    ),
}


def _event_select(columns: Collection[str] | None, own_alias: str = "e") -> str:
    """The canonical event columns over ``own_alias`` (which yields ``columns``; None: all of
    them; the others are NULL) and the keys ``k``."""
    own = {
        name: f"{own_alias}.{quote_ident(name)}" if columns is None or name in columns else "NULL"
        for name, _ in duckdb_columns("event")
    }
    return ", ".join(
        f"{_DERIVED[name].format_map(own) if name in _DERIVED else own[name]} AS {quote_ident(name)}" for name in own
    )


def final_event_sql(session: IntakeSession) -> tuple[str, list[object]]:
    """SQL (and its parameters) yielding the finished events.

    Rows emitted whole are joined to their keys by their ``_eid`` in ``stage_event`` (the window
    sorts only the narrow keys: carrying Jira's text columns through it cost more than the join,
    10 M rows: 26 s against 12 s + 17 s); events of ticket rows are read from ``_ev_keys``, which
    holds them whole. An emission by row reads its relation again and joins on ``_row``, so its
    wide columns never sat in ``stage_event``."""
    parts = []
    rows = _row_events(session)
    if rows is not None:
        held = [name for (name,) in session.con.execute("SELECT column_name FROM (DESCRIBE _ev_keys)").fetchall()]
        # "seq" of _ev_keys is the event's own (its place in the ticket); no column is named like p_*.
        # What is the same for every event is not stored in _ev_keys (30 M rows) but added here
        parts.append(
            f"SELECT {_event_select([*held, 'origin'], own_alias='k')} FROM (SELECT *, {_lit(rows.origin)} AS origin, "
            "NULL::VARCHAR AS p_group, NULL::VARCHAR AS p_agent FROM _ev_keys) k"
        )
    elif session.whole_events:
        parts.append(
            f"SELECT {_event_select(None)} FROM stage_event e JOIN _ev_keys k ON k.rid = e._eid "
            "WHERE e._emission IS NULL"
        )
    params: list[object] = []
    for em in session.keyed_events:
        parts.append(
            f"SELECT {_event_select(em.columns)} FROM ({em.sql}) e "
            f"JOIN (SELECT * FROM _ev_keys WHERE _emission = {em.index}) k ON k._row = e._row"
        )
        params.extend(em.params)
    if not parts:
        return f"SELECT {_event_select(None)} FROM stage_event e, _ev_keys k WHERE FALSE", params
    return " UNION ALL ".join(parts), params


def _quarantine_after_emit(session: IntakeSession, rows: TicketRowEvents | None) -> None:
    """The checks of staged rows against each other. Events of ticket rows (``rows``: not staged
    as events) need none of their own: their ticket is their row, their times are its times,
    which the ticket's checks read (outside the plausible window; resolved or closed, the only
    events after the opening, before the opening)."""
    con = session.con
    files = [r.file for r in session.files]
    _quarantine_tickets_of_two_files(session, files)
    _quarantine_implausible(session, files, rows)
    # staged rows name their file by its key (IntakeSession.file_key): paths where shown or ordered
    path = session.file_path_sql("_file")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _dup AS
        SELECT _file AS file, _row AS "row",
               'ticket ' || ticket_id || ' is given already in ' || first_file || ' row ' || first_row AS detail
        FROM (
            SELECT _file, _row, ticket_id, row_number() OVER w AS n,
                   first_value({path}) OVER w AS first_file, first_value(_row) OVER w AS first_row
            FROM stage_ticket
            WHERE ticket_id IN (SELECT ticket_id FROM stage_ticket GROUP BY ticket_id HAVING count(*) > 1)
               OR ticket_id IS NULL
            WINDOW w AS (PARTITION BY ticket_id ORDER BY {path}, _row)
        ) WHERE n > 1 AND _row IS NOT NULL
        """
    )
    for file in files:
        key = _lit(session.file_key(file))
        session.quarantine_rows(
            file=file,
            rows_sql=f'SELECT "row" FROM _dup WHERE file = {key}',
            reason="duplicate_key",
            column=None,
            detail_sql=f'(SELECT detail FROM _dup d WHERE d.file = {key} AND d."row" = _row)',
        )
    for file in files:
        session.quarantine_rows(
            file=file,
            rows_sql=(
                "SELECT e._row FROM stage_event e WHERE e._file = "
                + _lit(session.file_key(file))
                # NOT EXISTS: an event naming no ticket at all (no key) is unknown too
                + " AND NOT EXISTS (SELECT 1 FROM stage_ticket t WHERE t.ticket_id = e.ticket_id)"
            ),
            reason="unknown_ticket",
            column=None,
            detail_sql="'the event names a ticket no file describes'",
        )
        session.quarantine_rows(
            file=file,
            rows_sql=(
                "SELECT e._row FROM stage_event e JOIN stage_ticket t USING (ticket_id) WHERE e._file = "
                + _lit(session.file_key(file))
                + " AND t.opened_at IS NOT NULL AND e.ts < t.opened_at - INTERVAL 1 MINUTE"
                # against the ticket's row that is kept: a later row of the same id (a duplicate_key)
                # must not date the first one's events
                + f" AND NOT EXISTS (SELECT 1 FROM ({session.quarantined_rows_sql()}) q "
                "WHERE q.file = t._file AND q._row = t._row)"
            ),
            reason="event_before_creation",
            column=None,
            detail_sql="'an event is dated before its ticket was opened'",
        )
    # Drop every staged row that came from a quarantined source row.
    marks = session.quarantined_rows_sql()
    # a ticket no single row gave (aggregated from its file's events) goes with the last of
    # them; only tickets with a quarantined event are looked at (a join of a few rows)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _hit AS
        SELECT DISTINCT e._file, e.ticket_id FROM stage_event e JOIN ({marks}) q ON q.file = e._file AND q._row = e._row
        """
    )
    con.execute(
        f"""
        DELETE FROM stage_ticket t WHERE t._row IS NULL
        AND EXISTS (SELECT 1 FROM _hit h WHERE h._file = t._file AND h.ticket_id = t.ticket_id)
        AND NOT EXISTS (
            SELECT 1 FROM stage_event e WHERE e.ticket_id = t.ticket_id AND e._file = t._file
            AND e.ticket_id IN (SELECT ticket_id FROM _hit)
            AND (e._row IS NULL OR NOT EXISTS (SELECT 1 FROM ({marks}) q WHERE q.file = e._file AND q._row = e._row)))
        """
    )
    for table in TABLES:
        con.execute(
            f"DELETE FROM {quote_ident('stage_' + table)} s WHERE s._row IS NOT NULL "
            f"AND EXISTS (SELECT 1 FROM ({marks}) q WHERE q.file = s._file AND q._row = s._row)"
        )
    session.release_accepted_raw()


def _quarantine_ticket_rows(
    session: IntakeSession, *, bad: str, files: list[str], reason: str, column: str | None = None
) -> None:
    """Quarantine every source row behind the tickets ``bad`` names (SQL yielding ``file,
    ticket_id, detail``): the ticket's own row and its events' rows, and drop a ticket row that
    no single source row gave (a ticket aggregated from its events)."""
    con = session.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE _bad_ticket AS {bad}")
    [(n,)] = con.execute("SELECT count(*) FROM _bad_ticket").fetchall()
    if not n:
        return
    for file in files:
        lit = _lit(session.file_key(file))  # as the staged rows and _bad_ticket name the file
        rows = (
            f"SELECT s._row FROM stage_ticket s JOIN _bad_ticket b ON b.ticket_id = s.ticket_id AND b.file = s._file "
            f"WHERE s._file = {lit} AND s._row IS NOT NULL UNION ALL "
            f"SELECT e._row FROM stage_event e JOIN _bad_ticket b ON b.ticket_id = e.ticket_id AND b.file = e._file "
            f"WHERE e._file = {lit} AND e._row IS NOT NULL"
        )
        session.quarantine_rows(
            file=file,
            rows_sql=rows,
            reason=reason,
            column=column,
            detail_sql=(
                # the inner relations name their row "r": "_row" is the quarantined source row
                f"(SELECT any_value(b.detail) FROM _bad_ticket b WHERE b.file = {lit} AND b.ticket_id IN ("
                f"SELECT k.ticket_id FROM (SELECT _row AS r, ticket_id FROM stage_ticket WHERE _file = {lit} "
                f"UNION ALL SELECT _row, ticket_id FROM stage_event WHERE _file = {lit}) k WHERE k.r = _row))"
            ),
        )
    con.execute(
        "DELETE FROM stage_ticket s WHERE s._row IS NULL AND EXISTS "
        "(SELECT 1 FROM _bad_ticket b WHERE b.ticket_id = s.ticket_id AND b.file = s._file)"
    )


def _quarantine_tickets_of_two_files(session: IntakeSession, files: list[str]) -> None:
    """The same ticket id given by two files of one intake (e.g. the XES and the CSV export of
    one log): the first file (by name) keeps it, the later files' rows are ``duplicate_key``."""
    con = session.con
    if len(files) < 2:
        return  # one file cannot repeat another
    # ids given by more than one file, found by one aggregation (no window over every ticket)
    # (staged rows name their file by its key: the first file is the first by path)
    path = session.file_path_sql("_file")
    _quarantine_ticket_rows(
        session,
        bad=f"""
            SELECT DISTINCT s._file AS file, s.ticket_id,
                   'ticket ' || s.ticket_id || ' is given already by ' || m.first_file
                   || ' (the same records in two files?)' AS detail
            FROM stage_ticket s
            JOIN (SELECT ticket_id, arg_min(_file, {path}) AS first_key, min({path}) AS first_file
                  FROM stage_ticket GROUP BY ticket_id HAVING min(_file) <> max(_file)) m ON m.ticket_id = s.ticket_id
            WHERE s._file <> m.first_key
        """,
        files=files,
        reason="duplicate_key",
    )
    for file in files:
        key = session.file_key(file)
        [(n,)] = con.execute("SELECT count(DISTINCT ticket_id) FROM _bad_ticket WHERE file = ?", [key]).fetchall()
        if n:
            [(first,)] = con.execute(
                f"SELECT min({session.file_path_sql('t._file')}) FROM stage_ticket t WHERE t.ticket_id IN "
                "(SELECT ticket_id FROM _bad_ticket WHERE file = ?) AND t._file <> ?",
                [key, key],
            ).fetchall()
            session.report_for(file).notes.append(
                f"{n:,} ticket(s) of this file are given already by {first}: its rows for them are quarantined "
                "as duplicate_key — are these the same records in two formats? Take in only one of them."
            )


def _window() -> tuple[str, str]:
    """The plausible times of records: from ITSM_DOCTOR_EARLIEST (default 1980-01-01) to a day
    after now. Outside it a time is an export error (year 1, 1900, 9999), not an event."""
    earliest = os.environ.get("ITSM_DOCTOR_EARLIEST") or "1980-01-01"
    latest = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S+00")
    return earliest, latest


def _quarantine_implausible(session: IntakeSession, files: list[str], rows: TicketRowEvents | None) -> None:
    """Events with no time; times outside the plausible window; tickets resolved or closed
    before they were opened — quarantined with their reason, never taken as records."""
    earliest, latest = _window()
    outside = f"NOT ({{c}} BETWEEN TIMESTAMPTZ {_lit(earliest)} AND TIMESTAMPTZ {_lit(latest)})"
    for file in files:
        lit = _lit(session.file_key(file))
        session.quarantine_rows(
            file=file,
            rows_sql=f"SELECT _row FROM stage_event WHERE _file = {lit} AND _row IS NOT NULL AND ts IS NULL",
            reason="missing_time",
            column=None,
            detail_sql="'the event has no time'",
        )
        session.quarantine_rows(
            file=file,
            rows_sql=(
                f"SELECT _row FROM stage_event WHERE _file = {lit} AND _row IS NOT NULL AND " + outside.format(c="ts")
            ),
            reason="implausible_time",
            column=None,
            detail_sql=(
                f"'the time ' || (SELECT any_value(e.t)::VARCHAR FROM (SELECT _row AS r, ts AS t FROM stage_event "
                f"WHERE _file = {lit}) e WHERE e.r = _row) || ' lies outside {earliest} … {latest[:10]}'"
            ),
        )
    times = ("opened_at", "resolved_at", "closed_at", "cancelled_at")
    checks = " OR ".join(f"({t} IS NOT NULL AND {outside.format(c=t)})" for t in times)
    _quarantine_ticket_rows(
        session,
        bad=f"""
            SELECT DISTINCT _file AS file, ticket_id,
                   'ticket ' || ticket_id || ' has a time outside {earliest} … {latest[:10]}' AS detail
            FROM stage_ticket WHERE {checks}
        """,
        files=files,
        reason="implausible_time",
    )
    # only tickets without an opening time need their events looked at: usually there is none
    [(unopened,)] = session.con.execute(
        "SELECT count(*) FROM stage_ticket WHERE _row IS NOT NULL AND opened_at IS NULL"
    ).fetchall()
    if unopened:
        # events of ticket rows not staged (``rows``) are their rows' times: a row of the ticket
        # with any of them tells it, as its staged events would
        told = (
            ""
            if rows is None
            else f"""AND NOT EXISTS (SELECT 1 FROM stage_ticket r WHERE r.ticket_id = t.ticket_id
                    AND ({_row_facts(rows)["first_ts"]}) IS NOT NULL
                    AND r.ticket_id IN (SELECT ticket_id FROM stage_ticket WHERE opened_at IS NULL))"""
        )
        _quarantine_ticket_rows(
            session,
            bad=f"""
                SELECT DISTINCT _file AS file, ticket_id,
                       'ticket ' || ticket_id || ' has no opening time and no event to tell it' AS detail
                FROM stage_ticket t
                WHERE t._row IS NOT NULL AND t.opened_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM stage_event e WHERE e.ticket_id = t.ticket_id AND e.ts IS NOT NULL
                                  AND e.ticket_id IN (SELECT ticket_id FROM stage_ticket WHERE opened_at IS NULL))
                  {told}
            """,
            files=files,
            reason="missing_time",
            column=None,
        )
    _quarantine_ticket_rows(
        session,
        bad="""
            SELECT DISTINCT _file AS file, ticket_id,
                   'ticket ' || ticket_id || ' is resolved or closed (' || least(resolved_at, closed_at)::VARCHAR
                   || ') before it was opened (' || opened_at::VARCHAR || ')' AS detail
            FROM stage_ticket
            WHERE opened_at IS NOT NULL AND least(resolved_at, closed_at) < opened_at - INTERVAL 1 MINUTE
        """,
        files=files,
        reason="resolved_before_opened",
    )


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# What the events tell of a ticket (``_complete_tickets``), as aggregates over its events.
_FACTS = {
    "first_ts": "min(ts)",
    "first_assigned": (
        "min(ts) FILTER (WHERE to_group_id IS NOT NULL OR to_agent_id IS NOT NULL OR to_status = 'assigned')"
    ),
    "first_resolved": "min(ts) FILTER (WHERE to_status = 'resolved')",
    "last_closed": "max(ts) FILTER (WHERE to_status = 'closed')",
    "last_cancelled": "max(ts) FILTER (WHERE to_status = 'cancelled')",
    "last_status": "arg_max(to_status, seq) FILTER (WHERE to_status IS NOT NULL)",
    "last_reason": "arg_max(pending_reason, seq) FILTER (WHERE to_status IS NOT NULL)",
    "last_group": "arg_max(to_group_id, seq) FILTER (WHERE to_group_id IS NOT NULL)",
    "last_agent": "arg_max(to_agent_id, seq) FILTER (WHERE to_agent_id IS NOT NULL)",
}


def _row_facts(rows: TicketRowEvents) -> dict[str, str]:
    """``_FACTS`` over a ticket row's own events, from its time columns (``least``/``greatest``
    skip a NULL): its events carry a status and nothing else, so no group, agent or reason."""

    def times(status: str | None, pick: str) -> str:
        cols = [quote_ident(c) for c, _kind, st in rows.items if status is None or st == status]
        return f"{pick}({', '.join(cols)})" if cols else "NULL::TIMESTAMPTZ"

    # the last event: the greatest (time, item) of the events that happened
    last = ", ".join(
        f"CASE WHEN {quote_ident(c)} IS NOT NULL THEN {{'ts': {quote_ident(c)}, 'seq': {n}, 'status': {_lit(st)}}} END"
        for n, (c, _kind, st) in enumerate(rows.items, start=1)
    )
    files = ", ".join(_lit(f) for f in rows.files)
    facts = {
        "first_ts": times(None, "least"),
        "first_assigned": times("assigned", "least"),
        "first_resolved": times("resolved", "least"),
        "last_closed": times("closed", "greatest"),
        "last_cancelled": times("cancelled", "greatest"),
        "last_status": f"greatest({last}).status",
        "last_reason": "NULL::VARCHAR",
        "last_group": "NULL::VARCHAR",
        "last_agent": "NULL::VARCHAR",
    }
    # a ticket of a file without such events has none
    return {name: f"CASE WHEN _file IN ({files}) THEN {expr} END" for name, expr in facts.items()}


def _complete_tickets(session: IntakeSession, rows: TicketRowEvents | None = None) -> None:
    con = session.con
    if rows is None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _ev_facts AS SELECT ticket_id, "
            + ", ".join(f"{agg} AS {name}" for name, agg in _FACTS.items())
            + " FROM _ev_keys GROUP BY ticket_id"
        )
        source, f, extra = "stage_ticket t LEFT JOIN _ev_facts f USING (ticket_id)", "f.", ""
    else:  # each ticket row's own events: no aggregation, no join
        listed = ", ".join(f"{expr} AS _f_{name}" for name, expr in _row_facts(rows).items())
        source = f"(SELECT *, {listed} FROM stage_ticket) t"
        f, extra = "t._f_", "EXCLUDE (" + ", ".join(f"_f_{name}" for name in _FACTS) + ") "
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW final_ticket AS
        SELECT t.* {extra}REPLACE (
            coalesce(t.opened_at, {f}first_ts) AS opened_at,
            coalesce(t.first_assigned_at, {f}first_assigned) AS first_assigned_at,
            coalesce(t.resolved_at, {f}first_resolved,
                     CASE WHEN coalesce(t.status, {f}last_status) = 'closed'
                          THEN coalesce(t.closed_at, {f}last_closed) END
            ) AS resolved_at,
            coalesce(t.closed_at, {f}last_closed) AS closed_at,
            coalesce(t.cancelled_at, {f}last_cancelled) AS cancelled_at,
            coalesce(t.status, {f}last_status) AS status,
            CASE WHEN coalesce(t.status, {f}last_status) = 'pending'
                 THEN coalesce(t.pending_reason, {f}last_reason, 'unknown') END AS pending_reason,
            coalesce(t.assigned_group_id, {f}last_group) AS assigned_group_id,
            coalesce(t.assignee_id, {f}last_agent) AS assignee_id
        )
        FROM {source}
        """
    )


def _build_intervals(session: IntakeSession, rows: TicketRowEvents | None = None) -> None:
    """One row per stretch of equal (status, pending reason, group, assignee), from ``_ev_keys``
    (a view: computed once, while it is written).

    A stretch starts at an event whose state after it differs from the state before it
    (``p_*``); events before any status or group is known start none. Events of ticket rows
    carry their stretch already (``_order_events_by_row``); they all reach a status."""
    if rows is not None:
        session.con.execute(
            """
            CREATE OR REPLACE TEMP VIEW final_status_interval AS
            SELECT ticket_id, iv_seq AS seq, to_status AS status,
                   CASE WHEN to_status = 'pending' THEN 'unknown' END AS pending_reason,
                   NULL::VARCHAR AS group_id, NULL::VARCHAR AS assignee_id, ts AS start, iv_end AS "end",
                   epoch(iv_end - ts)::DOUBLE AS duration_s, NULL::DOUBLE AS business_duration_s
            FROM _ev_keys WHERE iv_start
            """
        )
        return
    session.con.execute(
        """
        CREATE OR REPLACE TEMP VIEW final_status_interval AS
        WITH state AS (
            SELECT ticket_id, seq, ts, p_status, p_group, p_agent,
                   coalesce(to_status, p_status) AS status,
                   coalesce(to_group_id, p_group) AS group_id,
                   coalesce(to_agent_id, p_agent) AS assignee_id,
                   CASE WHEN coalesce(to_status, p_status) = 'pending'
                        THEN coalesce(nullif(coalesce(reason_mark, p_reason), '~'), 'unknown') END AS pending_reason,
                   CASE WHEN p_status = 'pending' THEN coalesce(nullif(p_reason, '~'), 'unknown') END AS p_pending
            FROM _ev_keys
        ), starts AS (
            SELECT * FROM state
            WHERE (status IS NOT NULL OR group_id IS NOT NULL)
              AND ((p_status IS NULL AND p_group IS NULL)
                   OR p_status IS DISTINCT FROM status OR p_pending IS DISTINCT FROM pending_reason
                   OR p_group IS DISTINCT FROM group_id OR p_agent IS DISTINCT FROM assignee_id)
        )
        SELECT ticket_id, (row_number() OVER t)::INTEGER AS seq,
               status, pending_reason, group_id, assignee_id, ts AS start,
               lead(ts) OVER t AS "end",
               epoch(lead(ts) OVER t - ts)::DOUBLE AS duration_s,
               NULL::DOUBLE AS business_duration_s
        FROM starts
        WINDOW t AS (PARTITION BY ticket_id ORDER BY seq)
        """
    )
