"""Simulate a patient into a folder: canonical Parquet (one file per table) and ``truth.json``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from itsm_doctor.records.schema import SCHEMAS
from itsm_doctor.simulate.generate import _conform, generate_chunk
from itsm_doctor.simulate.model import REQUEST_SLA_HOURS, SLA_HOURS, Scenario, build_organisation

__all__ = ["CHUNK", "simulate"]

CHUNK = 50_000


def _static_tables(sc: Scenario) -> dict[str, pa.Table]:
    org = build_organisation(tickets=sc.tickets, months=sc.months)
    group = pa.table(
        {
            "group_id": [g[0] for g in org.groups],
            "name": [g[1] for g in org.groups],
            "tier": pa.array([g[2] for g in org.groups], pa.int32()),
            "kind": [g[3] for g in org.groups],
            "source": ["simulator"] * len(org.groups),
        }
    )
    agents = [(a, g) for g, members in org.agents.items() for a in members]
    agent = pa.table(
        {
            "agent_id": [a for a, _ in agents],
            "display_name": [a for a, _ in agents],
            "group_ids": [[g] for _, g in agents],
            "is_vendor": [g == "VND" for _, g in agents],
            "source": ["simulator"] * len(agents),
        }
    )
    service = pa.table(
        {
            "service_id": list(org.services),
            "name": [f"Service {s}" for s in org.services],
            "kind": ["service"] * len(org.services),
            "source": ["simulator"] * len(org.services),
        }
    )
    targets = [(f"inc-p{p}", "incident", p, h) for p, h in SLA_HOURS.items()]
    targets += [(f"req-p{p}", "request", p, REQUEST_SLA_HOURS) for p in SLA_HOURS]
    sla_target = pa.table(
        {
            "sla_target_id": [t[0] for t in targets],
            "name": [f"{t[1]} P{t[2]} resolution" for t in targets],
            "metric": ["resolution"] * len(targets),
            "ticket_type": [t[1] for t in targets],
            "priority": pa.array([t[2] for t in targets], pa.int32()),
            "target_s": [t[3] * 3600.0 for t in targets],
            "calendar": ["24x7"] * len(targets),
            "pause_on": [["awaiting_user"]] * len(targets),
            "source": ["simulator"] * len(targets),
        }
    )
    return {
        "group": _conform("group", group),
        "agent": _conform("agent", agent),
        "service": _conform("service", service),
        "sla_target": _conform("sla_target", sla_target),
    }


def simulate(
    sc: Scenario, out: Path, *, progress: Callable[[int, int], None] | None = None, chunk_size: int = CHUNK
) -> dict[str, int]:
    """Write the scenario's records into ``out``; returns rows per table. Memory is bounded
    by one chunk; the same seed gives byte-identical files whatever the machine."""
    out.mkdir(parents=True, exist_ok=True)
    org = build_organisation(tickets=sc.tickets, months=sc.months)
    counts: dict[str, int] = {}
    for name, table in _static_tables(sc).items():
        pq.write_table(table, out / f"{name}.parquet")
        counts[name] = table.num_rows
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        done = 0
        for chunk, first in enumerate(range(0, sc.tickets, chunk_size)):
            n = min(chunk_size, sc.tickets - first)
            part = generate_chunk(sc, org, chunk=chunk, first=first, n=n)
            for name, table in part.tables.items():
                if name not in writers:
                    writers[name] = pq.ParquetWriter(out / f"{name}.parquet", SCHEMAS[name])
                writers[name].write_table(table)
                counts[name] = counts.get(name, 0) + table.num_rows
            done += n
            if progress:
                progress(done, sc.tickets)
    finally:
        for w in writers.values():
            w.close()
    truth = {
        "seed": sc.seed,
        "tickets": sc.tickets,
        "months": sc.months,
        "start": sc.start.isoformat(),
        "dysfunctions": {k: v for k, v in sorted(sc.dysfunctions.items())},
        "treatments": [{"dysfunction": t.dysfunction, "from": t.since.isoformat(), "to": t.to} for t in sc.treatments],
        "records": counts,
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return counts
