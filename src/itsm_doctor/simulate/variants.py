"""The ServiceNow snapshot log as real exports give it: with the system's own counters, and in
the variants that change what the records can show.

The snapshot layout (``incident_event_log.csv``, read by ``--source servicenow``) has, by
itself, no tier column, no SLA due dates and no problem table. On top of it:

- ``snapshot`` — every update row, plus ``reassignment_count`` and ``reopen_count`` as the
  real export carries them;
- ``gaps`` — audit rows skipped: each row that is neither a ticket's first nor its last is
  left out with probability ``GAP_SHARE`` (the real log skips updates in 37 % of incidents),
  so some group changes become invisible and only the counters keep them;
- ``closed-only`` — only tickets closed by the end of the extract (every incident of the real
  log ends closed): the backlog's last weeks lose the incidents still open;
- ``closed-only-gaps`` — both.

Rows are dropped by a hash of the seed, the ticket and the row, so a variant is reproducible.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from itsm_doctor.simulate.export import write_servicenow

__all__ = ["GAP_SHARE", "VARIANTS", "write_snapshot_variant"]

VARIANTS = ("snapshot", "gaps", "closed-only", "closed-only-gaps")
GAP_SHARE = 0.3


def write_snapshot_variant(canonical: Path, out: Path, *, variant: str = "snapshot", seed: int = 0) -> int:
    """Write ``out`` (a ServiceNow snapshot CSV) from the canonical Parquet in ``canonical``;
    returns the rows written."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown export variant {variant!r}; use one of {', '.join(VARIANTS)}")
    full = out.with_name(out.stem + ".full.csv")
    write_servicenow(canonical, full)
    closed_only = variant.startswith("closed-only")
    gaps = variant.endswith("gaps")
    con = duckdb.connect()
    try:
        con.execute(
            """
            CREATE TEMP TABLE counters AS
            SELECT t.source_key AS number,
                   coalesce(max(t.reopen_count), 0)::INTEGER AS reopen_count,
                   count(e.ticket_id) FILTER (WHERE e.kind = 'group_change')::INTEGER AS reassignment_count
            FROM read_parquet(?) t LEFT JOIN read_parquet(?) e USING (ticket_id)
            GROUP BY t.source_key
            """,
            [str(canonical / "ticket.parquet"), str(canonical / "event.parquet")],
        )
        keep = ["TRUE"]
        if closed_only:
            keep.append("s.closed_at <> '?'")
        if gaps:
            # the first and the last row of a ticket stay: the opening and the final state are known
            keep.append(
                "(s.sys_mod_count::INTEGER = 0 OR s.sys_mod_count::INTEGER = last_mod "
                f"OR hash(s.number || ':' || s.sys_mod_count || ':' || ?) % 1000 >= {int(GAP_SHARE * 1000)})"
            )
        params = [str(full), *([str(seed)] if gaps else []), str(out)]
        con.execute(
            f"""
            COPY (
                SELECT s.* EXCLUDE (last_mod), c.reassignment_count, c.reopen_count
                FROM (SELECT *, max(sys_mod_count::INTEGER) OVER (PARTITION BY number) AS last_mod
                      FROM read_csv(?, all_varchar := true, header := true)) s
                JOIN counters c USING (number)
                WHERE {" AND ".join(keep)}
                ORDER BY s.number, s.sys_mod_count::INTEGER
            ) TO ? (HEADER, DELIMITER ',')
            """,
            params,
        )
        [(n,)] = con.execute("SELECT count(*) FROM read_csv(?, all_varchar := true)", [str(out)]).fetchall()
    finally:
        con.close()
        full.unlink(missing_ok=True)
    return int(n)
