"""BPI Challenge 2013: Volvo IT's VINST incident (and problem) logs.

The CSV layout (``VINST-incidents.csv.gz``) has one row per status change of a service
request: ``SR Number, Change Date+Time, Status, Sub Status, …, Involved ST, ST Level,
SR Latest Impact, Product, Country, Owner Country, Owner First Name``. Status and
Sub Status together give the canonical status (table in domain/sources.md §7.3); the
support team (``Involved ST``) is the group and ``ST Level`` its tier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from itsm_doctor.sources.base import IntakeSession, RawTable, Source, SourceOptions, sql_str

__all__ = ["SOURCE", "STATUS_MAP", "emit_bpic2013"]

# (Status, Sub Status) → (canonical status, pending reason)
STATUS_MAP: dict[tuple[str, str], tuple[str, str | None]] = {
    ("Queued", "Awaiting Assignment"): ("assigned", None),
    ("Accepted", "Assigned"): ("assigned", None),
    ("Accepted", "In Progress"): ("in_progress", None),
    ("Accepted", "Wait - User"): ("pending", "awaiting_user"),
    ("Accepted", "Wait - Customer"): ("pending", "awaiting_user"),
    ("Accepted", "Wait - Vendor"): ("pending", "awaiting_vendor"),
    ("Accepted", "Wait - Implementation"): ("pending", "awaiting_change"),
    ("Accepted", "Wait"): ("pending", "unknown"),
    ("Completed", "In Call"): ("resolved", None),
    ("Completed", "Resolved"): ("resolved", None),
    ("Completed", "Closed"): ("closed", None),
    ("Completed", "Cancelled"): ("cancelled", None),
}
# "Unmatched · Unmatched" (5 events) carries no status: kept as a plain activity event.
NO_STATUS: frozenset[tuple[str, str]] = frozenset({("Unmatched", "Unmatched")})

IMPACT = {"Major": 1, "High": 2, "Medium": 3, "Low": 4}
TIER = {"L1": 1, "L2": 2, "L3": 3, "L2/L3": 2}

REQUIRED = ("SR Number", "Change Date+Time", "Status", "Sub Status", "Involved ST")


def _values(pairs: Mapping[str, object]) -> str:
    rows = ", ".join(f"({sql_str(k)}, {v if isinstance(v, int) else sql_str(str(v))})" for k, v in pairs.items())
    return f"(VALUES {rows})"


def _status_table(session: IntakeSession) -> None:
    rows: list[tuple[str, str, str | None, str | None]] = [(s, ss, c, r) for (s, ss), (c, r) in STATUS_MAP.items()]
    rows += [(s, ss, None, None) for (s, ss) in NO_STATUS]
    # what an event's columns take from its (Status, Sub Status), spelt out once per pair
    # instead of once per event
    session.con.execute(
        "CREATE OR REPLACE TEMP TABLE bpic13_status (status VARCHAR, sub VARCHAR, canonical VARCHAR, reason VARCHAR, "
        "kind VARCHAR, to_raw VARCHAR, activity VARCHAR)"
    )
    session.con.executemany(
        "INSERT INTO bpic13_status VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (st, sub, c, r, "activity" if c is None else "status_change", f"{st} · {sub}", f"{st}-{sub}")
            for st, sub, c, r in rows
        ],
    )


def emit_bpic2013(
    session: IntakeSession, staged: str, *, file: str, ticket_type: str = "incident", reads: Sequence[str] = ()
) -> None:
    """Emit records from a staged relation with the columns ``_row, sr, ts (TIMESTAMPTZ), status,
    sub, team, tier_raw, org_line, function_div, impact_raw, product, country, owner_country,
    owner`` — shared by the CSV reader and the XES profile. The relation is read again when the
    events are written: keep it, and name in ``reads`` the raw tables a view of it reads."""
    con = session.con
    src = "bpic2013"
    # one event per row: the wide columns are read from ``staged`` again at the write
    session.emit_events_by_row(
        f"""
        SELECT '{src}:' || s.sr AS ticket_id, s.ts,
               coalesce(m.kind, 'activity') AS kind, 'Status' AS field,
               coalesce(m.to_raw, s.status || ' · ' || s.sub) AS to_raw,
               m.canonical AS to_status, m.reason AS pending_reason,
               '{src}:' || s.team AS to_group_id,
               CASE WHEN nullif(s.owner, '') IS NOT NULL AND s.owner <> '-' THEN '{src}:' || s.owner END AS to_agent_id,
               coalesce(m.activity, s.status || '-' || s.sub) AS activity, s.sub AS lifecycle,
               'activity_log' AS origin, '{src}' AS source,
               json_object('function_div', s.function_div, 'org_line', s.org_line,
                           'country', s.country, 'owner_country', s.owner_country)::VARCHAR AS raw,
               ? AS _file, s._row
        FROM {staged} s LEFT JOIN bpic13_status m ON m.status = s.status AND m.sub = s.sub
        """,
        [file],
        reads=reads,
    )
    session.emit(
        "ticket",
        f"""
        SELECT '{src}:' || sr AS ticket_id, '{src}' AS source, sr AS source_key, ? AS ticket_type,
               'unknown' AS channel,
               arg_max(impact_raw, ts) AS impact_raw, arg_max(i.code, ts) AS impact, arg_max(i.code, ts) AS priority,
               arg_max(impact_raw, ts) AS priority_raw,
               '{src}:' || arg_max(product, ts) AS service_id,
               arg_max(status || ' · ' || sub, ts) AS status_raw,
               json_object('country', arg_max(country, ts))::VARCHAR AS raw,
               ? AS _file
        FROM {staged} LEFT JOIN {_values(IMPACT)} i(label, code) ON i.label = impact_raw
        GROUP BY sr
        """,
        [ticket_type, file],
    )
    session.emit(
        "group",
        f"""
        SELECT '{src}:' || team AS group_id, team AS name,
               max(t.tier) AS tier,
               CASE max(t.tier) WHEN 1 THEN 'service_desk' WHEN 2 THEN 'resolver' WHEN 3 THEN 'resolver'
                    ELSE 'unknown' END AS kind,
               mode(org_line) AS org_line, '{src}' AS source, team AS source_id
        FROM {staged} LEFT JOIN {_values(TIER)} t(label, tier) ON t.label = tier_raw
        WHERE team IS NOT NULL GROUP BY team
        """,
    )
    session.emit(
        "agent",
        f"""
        SELECT '{src}:' || owner AS agent_id, owner AS display_name, 'agent' AS role,
               false AS is_system, false AS is_vendor,
               list('{src}:' || team ORDER BY team) FILTER (WHERE team IS NOT NULL) AS group_ids,
               '{src}' AS source, owner AS source_id
        FROM (SELECT DISTINCT owner, team FROM {staged} WHERE nullif(owner, '') IS NOT NULL AND owner <> '-')
        GROUP BY owner
        """,
    )
    session.emit(
        "service",
        f"""
        SELECT DISTINCT '{src}:' || product AS service_id, product AS name, 'ci' AS kind, '{src}' AS source,
               product AS source_id
        FROM {staged} WHERE product IS NOT NULL
        """,
    )
    del con


def _quarantine_common(session: IntakeSession, raw: RawTable) -> None:
    session.quarantine_missing(raw, column="SR Number")
    session.quarantine_unparseable(
        raw, column="Change Date+Time", expr=f"try_cast({raw.col('Change Date+Time')} AS TIMESTAMPTZ)"
    )
    st, sub = raw.col("Status"), raw.col("Sub Status")
    session.quarantine_where(
        raw,
        reason="unknown_status",
        column="Sub Status",
        condition=f"NOT EXISTS (SELECT 1 FROM bpic13_status m WHERE m.status = {st} AND m.sub = {sub})",
        detail=(
            f"'status ' || coalesce({st}, '∅') || ' · ' || coalesce({sub}, '∅') || "
            "' is not in the BPIC 2013 vocabulary'"
        ),
    )
    session.quarantine_duplicates(raw)


def read_csv_file(session: IntakeSession, path: Path, *, ticket_type: str) -> None:
    raw = session.load(path, source="bpic2013", required=REQUIRED)
    _quarantine_common(session, raw)
    c = raw.col
    # a view: the few casts are cheaper to repeat than 10 M rows to store again
    view = f"{raw.name}_staged"
    session.con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW {view} AS
        SELECT _row, trim({c("SR Number")}) AS sr, try_cast({c("Change Date+Time")} AS TIMESTAMPTZ) AS ts,
               {c("Status")} AS status, {c("Sub Status")} AS sub, {c("Involved ST")} AS team,
               {raw.col_or_null("ST Level")} AS tier_raw, {raw.col_or_null("Involved Org line 3")} AS org_line,
               {raw.col_or_null("Involved ST Function Div")} AS function_div,
               {raw.col_or_null("SR Latest Impact")} AS impact_raw, {raw.col_or_null("Product")} AS product,
               {raw.col_or_null("Country")} AS country, {raw.col_or_null("Owner Country")} AS owner_country,
               {raw.col_or_null("Owner First Name")} AS owner
        FROM {raw.accepted}
        """
    )
    staged = _repair_mac_roman(session, view, raw)
    emit_bpic2013(session, staged, file=raw.file, ticket_type=ticket_type, reads=(raw.name,) if staged == view else ())


# The published VINST CSV was written from latin-1 text read as Mac Roman: "Torbjörn" became
# "Torbjˆrn". These characters never occur otherwise in the log; mapping them back makes the
# CSV's records identical to the XES export's.
_MAC_ROMAN = ("ˆÈ≈‰ÂÌ¸·Î", "öéÅäåíüáë")
_TEXT = ("team", "org_line", "function_div", "product", "country", "owner_country", "owner")


def _repair_mac_roman(session: IntakeSession, staged: str, raw: RawTable) -> str:
    """The staged relation to emit from: ``staged`` itself, or a repaired table of it."""
    text = f"concat({', '.join(_TEXT)})"
    tell = " OR ".join(f"contains({text}, {sql_str(ch)})" for ch in "ˆ≈‰")
    [(n,)] = session.con.execute(f"SELECT count(*) FROM {staged} WHERE {tell}").fetchall()
    if not n:
        return staged
    fixed = ", ".join(f"translate({c}, {sql_str(_MAC_ROMAN[0])}, {sql_str(_MAC_ROMAN[1])}) AS {c}" for c in _TEXT)
    repaired = f"{raw.name}_repaired"
    session.con.execute(f"CREATE OR REPLACE TEMP TABLE {repaired} AS SELECT * REPLACE ({fixed}) FROM {staged}")
    session.report_for(raw.file).notes.append(
        f"{n:,} rows carried Mac Roman mojibake (e.g. 'Torbjˆrn'): repaired to latin-1 letters ('Torbjörn')"
    )
    return repaired


def _read(session: IntakeSession, files: Sequence[Path], options: SourceOptions) -> None:
    _status_table(session)
    for path in files:
        ticket_type = "problem" if "problem" in path.name.lower() else "incident"
        if ".xes" in path.name.lower():
            from itsm_doctor.sources.xes import read_bpic2013_xes

            read_bpic2013_xes(session, path, ticket_type=ticket_type)
        else:
            read_csv_file(session, path, ticket_type=ticket_type)


def _recognises(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".csv", ".csv.gz", ".xes", ".xes.gz"))


SOURCE = Source(
    name="bpic2013",
    summary="BPI Challenge 2013 (Volvo IT VINST): incidents and problems, CSV or XES",
    recognises=_recognises,
    read=_read,
)
