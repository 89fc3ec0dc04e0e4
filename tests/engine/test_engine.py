"""The engine opens a workspace's records on a backend and hands out Ibis tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from itsm_doctor.engine import EngineError, open_records, records_from_arrow
from itsm_doctor.records.schema import SCHEMAS, TABLES


def test_open_records_reads_every_table_and_keeps_empty_ones(tiny_workspace: Path) -> None:
    r = open_records(tiny_workspace)
    assert r.engine == "duckdb"
    assert set(r.tables) == set(TABLES)
    # three service requests, eleven status changes, two teams (T1 at L1, T2 at L2)
    assert (r.counts["ticket"], r.counts["event"], r.counts["group"]) == (3, 11, 2)
    # intake wrote no SLA, survey or link file: the tables exist, empty, with their schema
    for name in ("sla_target", "sla_record", "survey_response", "link"):
        assert r.counts[name] == 0 and not r.has(name)
        assert r.execute(r[name].count()) == 0
        assert list(r[name].schema().names) == SCHEMAS[name].names
    tiers = {row["name"]: row["tier"] for row in r.execute(r["group"].select("name", "tier")).to_pylist()}
    assert tiers == {"T1": 1, "T2": 2}


def test_execute_gives_arrow_for_tables_and_python_for_scalars(tiny_workspace: Path) -> None:
    r = open_records(tiny_workspace)
    table = r.execute(r["ticket"].select("ticket_id").order_by("ticket_id"))
    assert isinstance(table, pa.Table)
    assert table["ticket_id"].to_pylist() == ["bpic2013:1-A", "bpic2013:1-B", "bpic2013:1-C"]
    assert r.execute(r["event"].count()) == 11
    assert "SELECT" in r.to_sql(r["event"].count()).upper()


def test_a_workspace_without_records_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="holds no records"):
        open_records(tmp_path)


def test_an_unknown_engine_is_a_clear_error(tiny_workspace: Path) -> None:
    with pytest.raises(EngineError, match="unknown engine 'oracle'"):
        open_records(tiny_workspace, engine="oracle")


def test_records_from_arrow_fills_missing_tables() -> None:
    ticket = pa.table(
        {"ticket_id": ["x"], "ticket_type": ["incident"]},
        schema=pa.schema([("ticket_id", pa.string()), ("ticket_type", pa.string())]),
    )
    full = pa.Table.from_pylist(
        [{f.name: None for f in SCHEMAS["ticket"]} | ticket.to_pylist()[0]], schema=SCHEMAS["ticket"]
    )
    r = records_from_arrow({"ticket": full})
    assert r.counts["ticket"] == 1 and r.counts["event"] == 0
    assert r.execute(r["event"].count()) == 0


@pytest.mark.spark
def test_open_records_on_spark_gives_the_same_counts(tiny_workspace: Path, spark: Any) -> None:
    duck = open_records(tiny_workspace)
    r = open_records(tiny_workspace, engine="spark")
    assert r.engine == "spark"
    assert r.counts == duck.counts
    assert r.execute(r["event"].filter(r["event"].pending_reason == "awaiting_user").count()) == 1


@pytest.mark.spark
def test_spark_reads_the_records_mirror_when_one_is_named(
    tiny_workspace: Path, spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ITSM_DOCTOR_SPARK_RECORDS names a copy of WORKSPACE/records (object storage in production;
    here a file:// folder): Spark reads every record file there, and finds the same events."""
    import shutil

    mirror = tmp_path / "mirror"
    shutil.copytree(tiny_workspace / "records", mirror)
    monkeypatch.setenv("ITSM_DOCTOR_SPARK_RECORDS", mirror.as_uri())
    r = open_records(tiny_workspace, engine="spark")
    view = spark.table(r["event"].get_name())
    assert view.inputFiles() and all(f.startswith(mirror.as_uri()) for f in view.inputFiles())
    assert view.count() == r.counts["event"] == 11


def test_shared_blocks_are_built_once_and_held_values_are_dropped(base_records: Any) -> None:
    from itsm_doctor.signs import compute, get_sign

    r = base_records("duckdb")

    def temporary() -> list[str]:
        rows = r.con.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()  # type: ignore[attr-defined]
        return sorted(name for (name,) in rows)

    compute(get_sign("incident.ping_pong_rate"), r)
    kept = temporary()
    # the collapsed group path, the per-ticket group path and the ticket dimensions stay for
    # the next signs; the sign's own per-ticket values are gone
    assert len(kept) == 3
    compute(get_sign("incident.reassignment_rate"), r)  # reuses the group path
    # and keeps one block more: per incident, the history beside the source's own counter
    assert set(kept) < set(temporary()) and len(temporary()) == 4
    compute(get_sign("incident.mean_reassignments"), r)  # reuses both
    assert len(temporary()) == 4


def test_without_materialising_expressions_stay_pure(base_records: Any) -> None:
    from itsm_doctor.signs import get_sign

    r = base_records("duckdb")
    r.materialise = False
    per_ticket = get_sign("incident.ping_pong_rate").per_ticket
    assert per_ticket is not None
    sql = r.to_sql(per_ticket(r))
    assert "LAG" in sql.upper() and "held_" not in sql


def _columns(table: pa.Table, names: list[str]) -> list[dict[str, Any]]:
    return sorted(table.select(names).to_pylist(), key=lambda row: (row["ticket_id"], row["seq"]))


def test_records_from_arrow_fills_the_states_events_leave_as_intake_does(tiny_workspace: Path) -> None:
    import pyarrow.parquet as pq

    tables = {name: pq.read_table(tiny_workspace / "records" / name) for name in ("ticket", "event", "group")}
    events = tables["event"]
    blank = events
    for name in ("from_status", "from_group_id", "from_agent_id"):
        blank = blank.set_column(blank.schema.get_field_index(name), name, pa.nulls(events.num_rows, pa.string()))
    r = records_from_arrow(tables | {"event": blank})
    names = ["ticket_id", "seq", "from_status", "from_group_id", "from_agent_id"]
    filled = _columns(r.execute(r["event"]), names)
    assert filled == _columns(events, names)
    # by hand, 1-B: assigned (T1, Ann), in progress (T2, Bo), pending, in progress (T1, Ann), in progress (T2), resolved
    b = [row for row in filled if row["ticket_id"] == "bpic2013:1-B"]
    assert [row["from_status"] for row in b] == [
        None,
        "assigned",
        "in_progress",
        "pending",
        "in_progress",
        "in_progress",
    ]
    assert [row["from_group_id"] for row in b] == [None, *(f"bpic2013:T{n}" for n in (1, 2, 2, 1, 2))]
    assert [row["from_agent_id"] for row in b] == [None, *(f"bpic2013:{a}" for a in ("Ann", "Bo", "Bo", "Ann", "Bo"))]


def test_records_say_whether_every_event_names_a_known_ticket(tiny_workspace: Path) -> None:
    from itsm_doctor.signs.common import of_incidents

    assert open_records(tiny_workspace).referential
    ticket = pa.Table.from_pylist(
        [
            {f.name: None for f in SCHEMAS["ticket"]} | {"ticket_id": t, "ticket_type": k}
            for t, k in (("I", "incident"), ("R", "request"))
        ],
        schema=SCHEMAS["ticket"],
    )
    event = pa.Table.from_pylist(
        [{f.name: None for f in SCHEMAS["event"]} | {"ticket_id": t, "seq": 1, "to_status": "new"} for t in "IR"],
        schema=SCHEMAS["event"],
    )
    mixed = records_from_arrow({"ticket": ticket, "event": event})
    assert mixed.referential
    # a request among the tickets: only the incident's event is the incidents'
    assert mixed.execute(of_incidents(mixed, "event").ticket_id.collect()) == ["I"]
    only = records_from_arrow({"ticket": ticket.slice(0, 1), "event": event.slice(0, 1)})
    assert only.referential and only.execute(of_incidents(only, "event").count()) == 1
    # an event of a ticket nobody describes: the records are not referential, and it is no incident's
    orphan = records_from_arrow({"ticket": ticket.slice(0, 1), "event": event})
    assert not orphan.referential
    assert orphan.execute(of_incidents(orphan, "event").ticket_id.collect()) == ["I"]


def test_durations_on_duckdb_take_the_epoch_of_zoned_timestamps_without_a_cast(base_records: Any) -> None:
    from itsm_doctor.signs.common import hours_between

    r = base_records()
    t = r["ticket"].filter(r["ticket"].ticket_id == "I1")
    hours = hours_between(t.opened_at, t.resolved_at)
    sql = str(r.con.compile(t.select(h=hours)))
    assert "EPOCH(" in sql and "AS TIMESTAMP)" not in sql
    # I1 opened 08:00 and resolved 10:00 on 2026-01-05 (base_log.yaml)
    assert r.execute(t.select(h=hours).h.max()) == 2.0
