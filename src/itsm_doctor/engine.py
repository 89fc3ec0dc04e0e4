"""The one place that executes queries: a patient's records opened on a backend.

``open_records(workspace, engine="duckdb" | "spark")`` reads the Parquet files intake wrote
(``WORKSPACE/records/<table>/*.parquet``) and hands out Ibis tables. A table with no file
still exists, empty, with its canonical schema — so a sign can always be built and tells
"n/a" from the data, not from a crash. Signs build expressions; only ``Records.execute``
runs them, on DuckDB in-process or on PySpark (local mode in tests, a cluster in production).
``Records.shared`` and ``Records.held`` keep on the backend what several queries reuse, so
an examination reads the event log a handful of times, not once per sign (ADR 0006).
"""

from __future__ import annotations

import math
import os
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.operations as ops
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends import BaseBackend
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler
from ibis.backends.sql.compilers.pyspark import PySparkCompiler
from sqlglot import expressions as sge

from itsm_doctor.records.schema import SCHEMAS, TABLES

__all__ = [
    "ENGINES",
    "SPARK_CONF",
    "SPARK_LOG4J",
    "EngineError",
    "Records",
    "open_records",
    "records_from_arrow",
    "spark_location",
    "spark_master",
    "spark_session",
]

ENGINES = ("duckdb", "spark")


class EngineError(Exception):
    """The records cannot be opened on the engine asked for."""


@dataclass
class Records:
    """A patient's canonical records as Ibis tables on one backend."""

    engine: str
    con: BaseBackend
    tables: dict[str, ibis.Table]
    counts: dict[str, int] = field(default_factory=dict)
    # Every event and status interval names a ticket of the ticket table (intake guarantees
    # it: such events are quarantined as unknown_ticket, and intervals are built from events).
    # Signs may then skip joining them to the tickets when the ticket type narrows nothing.
    referential: bool = False
    # Keep building blocks several signs share (per-ticket group paths, status paths…) on the
    # backend once computed; off, every expression stays pure (e.g. to compile it to SQL).
    materialise: bool = True
    # Measure the per-ticket signs together, a few queries for all (``signs.base.compute_all``):
    # None = where a query's fixed cost dominates, i.e. on Spark.
    batch_signs: bool | None = None
    _shared: dict[str, ibis.Table] = field(default_factory=dict, repr=False)
    _facts: dict[str, Any] = field(default_factory=dict, repr=False)
    # the workspace's readers' lock, held while the records are open (intake/workspace.py)
    _guard: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.batch_signs is None:
            self.batch_signs = self.engine == "spark"

    def __getitem__(self, name: str) -> ibis.Table:
        return self.tables[name]

    def has(self, name: str) -> bool:
        """Whether the table ``name`` has rows."""
        return self.counts.get(name, 0) > 0

    def shared(self, key: str, build: Callable[[], ibis.Table]) -> ibis.Table:
        """The building block ``key``, built once and kept on the backend for every later sign
        (a DuckDB temporary table, a cached Spark frame); ``build`` only builds the expression."""
        if not self.materialise:
            return build()
        if key not in self._shared:
            self._shared[key], _release = self._keep(build())
        return self._shared[key]

    def fact(self, key: str, compute: Callable[[], Any]) -> Any:
        """A small value about the records (e.g. whether they hold incidents only), computed once."""
        if key not in self._facts:
            self._facts[key] = compute()
        return self._facts[key]

    @contextmanager
    def held(self, expr: ibis.Table) -> Iterator[ibis.Table]:
        """``expr`` computed once and kept on the backend while the block runs, then dropped."""
        if not self.materialise:
            yield expr
            return
        table, release = self._keep(expr)
        try:
            yield table
        finally:
            release()

    def _keep(self, expr: ibis.Table) -> tuple[ibis.Table, Callable[[], None]]:
        # not ibis' Table.cache(): its release emits a DROP without the table name here
        name = f"held_{uuid.uuid4().hex[:12]}"
        if self.engine == "spark":
            session = spark_session()
            frame = session.sql(str(self.con.compile(expr))).cache()
            frame.createOrReplaceTempView(name)

            def release_spark() -> None:
                session.catalog.dropTempView(name)
                frame.unpersist()

            return self.con.table(name), release_spark
        table = self.con.create_table(name, obj=expr, temp=True)

        def release_duckdb() -> None:
            # raw_sql hands back DuckDB's connection itself: nothing to close
            self.con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')  # type: ignore[attr-defined]

        return table, release_duckdb

    def execute(self, expr: ibis.Expr) -> Any:
        """Run an expression (a table gives a pyarrow Table, a scalar a Python value)."""
        if isinstance(expr, ibis.Table):
            return self.con.to_pyarrow(expr)
        value = self.con.execute(expr)
        return value.item() if hasattr(value, "item") else value

    def to_sql(self, expr: ibis.Expr) -> str:
        return str(ibis.to_sql(expr, dialect=self.con.name))


_SPARK: Any = None

#: the log4j 2 configuration the driver's JVM is started with (warnings and errors only)
SPARK_LOG4J = Path(__file__).with_name("spark-log4j2.properties")

#: what ITSM Doctor sets on every Spark session; ``PYSPARK_SUBMIT_ARGS="--conf k=v … pyspark-shell"``
#: overrides any of them (docs/spark.md)
SPARK_CONF: dict[str, str] = {
    # correctness: the records' instants are compared and bucketed (months) in UTC, and an
    # ANSI cast error must not replace ibis' null semantics
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    # the driver prints nothing on the terminal: no progress bars, no web UI, log4j at WARN
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={SPARK_LOG4J.as_uri()}",
    # an examination is many small queries over a cached event log: few shuffle partitions,
    # and adaptive execution merges those that are still too small (or splits skewed ones)
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
}


def spark_master() -> str:
    """The Spark master the engine connects to: ``ITSM_DOCTOR_SPARK_MASTER`` (``spark://host:7077``,
    ``yarn``, ``k8s://https://…``), else local mode on every core of this machine."""
    return os.environ.get("ITSM_DOCTOR_SPARK_MASTER") or "local[*]"


def spark_session() -> Any:
    """The process's one Spark session, started on the first call (``spark_master()``; the
    settings of ``SPARK_CONF``)."""
    global _SPARK
    if _SPARK is None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EngineError("the spark engine needs the 'spark' extra: pip install 'itsm-doctor[spark]'") from exc
        builder = SparkSession.builder.master(spark_master()).appName("itsm-doctor")
        for key, value in SPARK_CONF.items():
            builder = builder.config(key, value)
        try:
            _SPARK = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start or the master refused: say where
            raise EngineError(f"Spark did not start on master {spark_master()!r}: {exc}".splitlines()[0]) from exc
        _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


class _DuckDBCompiler(DuckDBCompiler):  # type: ignore[misc]
    """ibis' DuckDB compiler, but the epoch of a zoned timestamp is taken as it is: ibis casts it
    to a naive timestamp first, which runs DuckDB's time-zone code on every value (0.8 s per 15 M
    values, paid by every duration a sign measures) for the same number in a UTC session, and
    for the instant's true epoch in any other."""

    def visit_ExtractEpochSeconds(self, op: Any, *, arg: Any) -> Any:
        if op.arg.dtype.is_timestamp() and op.arg.dtype.timezone is not None:
            return self.f.epoch(arg)
        return super().visit_ExtractEpochSeconds(op, arg=arg)


class _PySparkCompiler(PySparkCompiler):  # type: ignore[misc]
    """ibis' PySpark compiler, but a float literal is a DOUBLE, as it is to DuckDB and to ibis:
    ibis writes ``1.0``, which Spark reads as a DECIMAL(2,1), so that the mean of
    ``cond.ifelse(1.0, 0.0)`` came back as a decimal of five places (0.48164 where DuckDB gives
    0.4816436510609633)."""

    def visit_NonNullLiteral(self, op: Any, *, value: Any, dtype: Any) -> Any:
        if dtype.is_floating() and math.isfinite(value):
            return self.cast(sge.convert(value), dtype)
        return super().visit_NonNullLiteral(op, value=value, dtype=dtype)


def _connect(engine: str) -> BaseBackend:
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        con.compiler = _DuckDBCompiler()  # this connection's only
        return con
    if engine == "spark":
        con = ibis.pyspark.connect(spark_session())
        con.compiler = _PySparkCompiler()
        return con
    raise EngineError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")


def _table_name(name: str, tag: str = "") -> str:
    # a prefix keeps SQL keywords ("group") out of the backend's table names
    return f"rec_{name}_{tag}" if tag else f"rec_{name}"


def _spark_view(con: BaseBackend, name: str, data: pa.Table) -> ibis.Table:
    """An Arrow table as a Spark temp view, straight from Arrow (through pandas, nulls would
    turn into "NaN" strings)."""
    session = spark_session()
    session.createDataFrame(data).createOrReplaceTempView(name)
    return con.table(name)


#: events' ``from_*`` filled where empty, as intake fills them: the last value known before the
#: event, in ``seq`` order (signs rely on it; records built by hand in tests leave them out)
_STATES_BEFORE = """
    SELECT * REPLACE (
        coalesce(from_status, last_value(to_status IGNORE NULLS) OVER w) AS from_status,
        coalesce(from_group_id, last_value(to_group_id IGNORE NULLS) OVER w) AS from_group_id,
        coalesce(from_agent_id, last_value(to_agent_id IGNORE NULLS) OVER w) AS from_agent_id
    )
    FROM {source}
    WINDOW w AS (PARTITION BY ticket_id ORDER BY seq, ts ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    ORDER BY ticket_id, seq, ts
"""


def _with_states_before(events: pa.Table) -> pa.Table:
    """Events whose ``from_status``, ``from_group_id`` and ``from_agent_id`` are filled where
    empty, as intake fills them (Spark's tables are made from Arrow)."""
    if not events.num_rows:
        return events
    import duckdb

    con = duckdb.connect()
    try:
        con.register("events", events)
        filled = con.sql(_STATES_BEFORE.format(source="events")).to_arrow_table()
    finally:
        con.close()
    return filled.cast(events.schema)


def _duckdb_table(con: BaseBackend, table: str, tag: str, data: pa.Table) -> ibis.Table:
    """An Arrow table copied into a DuckDB table of the canonical schema, in one statement on the
    connection itself (ibis' create-then-insert asks the backend for the schema three times: a
    quarter of a second per Records, paid by every sign case of the tests); the events get their
    states before filled on the way."""
    name = _table_name(table, tag)
    raw = con.con  # type: ignore[attr-defined]
    view = f"arrow_{name}"
    raw.register(view, data)
    try:
        select = _STATES_BEFORE.format(source=view) if table == "event" else f"SELECT * FROM {view}"
        raw.execute(f'CREATE TABLE "{name}" AS {select}')
    finally:
        raw.unregister(view)
    # the schema DuckDB gives a canonical table is asked once per process, not once per table made
    if table not in _DUCKDB_SCHEMAS:
        _DUCKDB_SCHEMAS[table] = con.table(name).schema()
    return ops.DatabaseTable(name, schema=_DUCKDB_SCHEMAS[table], source=con).to_expr()


_DUCKDB_SCHEMAS: dict[str, ibis.Schema] = {}


def records_from_arrow(tables: dict[str, pa.Table], *, engine: str = "duckdb") -> Records:
    """Records from in-memory Arrow tables (tests, the simulator); missing tables are empty."""
    con = _connect(engine)
    tag = uuid.uuid4().hex[:10]  # Spark's session is shared: each Records gets its own tables
    out: dict[str, ibis.Table] = {}
    counts: dict[str, int] = {}
    for name in TABLES:
        data = tables.get(name)
        if data is None:
            data = SCHEMAS[name].empty_table()
        else:
            data = data.select([f.name for f in SCHEMAS[name]]).cast(SCHEMAS[name])
        if engine == "spark":
            data = _with_states_before(data) if name == "event" else data
            out[name] = _spark_view(con, _table_name(name, tag), data)
        else:
            out[name] = _duckdb_table(con, name, tag, data)
        counts[name] = data.num_rows
    return Records(engine=engine, con=con, tables=out, counts=counts, referential=_referential(tables))


def _referential(tables: dict[str, pa.Table]) -> bool:
    """Whether every event and status interval names a ticket of the ticket table."""
    known = set(tables["ticket"].column("ticket_id").to_pylist()) if "ticket" in tables else set()
    for name in ("event", "status_interval"):
        if name in tables and not set(tables[name].column("ticket_id").to_pylist()) <= known:
            return False
    return True


def spark_location(path: Path, workspace: Path) -> str:
    """Where Spark reads the record file ``path``: the path itself (a local or shared
    filesystem), or its copy under ``ITSM_DOCTOR_SPARK_RECORDS`` (e.g. ``s3a://bucket/patient``),
    which mirrors ``WORKSPACE/records`` on storage every executor reaches (docs/spark.md)."""
    base = os.environ.get("ITSM_DOCTOR_SPARK_RECORDS")
    if not base:
        return str(path)
    try:
        rel = path.resolve().relative_to((workspace / "records").resolve())
    except ValueError:
        raise EngineError(
            f"file {path}: not under {workspace / 'records'}, so not in ITSM_DOCTOR_SPARK_RECORDS"
        ) from None
    return f"{base.rstrip('/')}/{rel.as_posix()}"


def _open_committed(workspace: Path, engine: str) -> tuple[BaseBackend, dict[str, ibis.Table], dict[str, int]]:
    """A connection on ``engine`` and a table per canonical table over the committed files."""
    from itsm_doctor.intake.workspace import WorkspaceError, committed_files

    try:
        committed = committed_files(workspace)
    except WorkspaceError as exc:
        raise EngineError(str(exc)) from exc
    con = _connect(engine)
    tag = uuid.uuid4().hex[:10]
    out: dict[str, ibis.Table] = {}
    counts: dict[str, int] = {}
    for name in TABLES:
        files = [str(p) for p in committed.get(name, [])]
        missing = [f for f in files if not Path(f).is_file()]
        if missing:
            raise EngineError(f"file {missing[0]}: a record file the workspace manifest names is missing")
        if files:
            if engine == "duckdb":
                t = con.read_parquet(files, table_name=_table_name(name, tag))  # type: ignore[attr-defined]
            else:  # only the committed files: Spark is given them one by one, never the folder
                where = [spark_location(Path(f), workspace) for f in files]
                con._session.read.parquet(*where).createOrReplaceTempView(_table_name(name, tag))  # type: ignore[attr-defined]
                t = con.table(_table_name(name, tag))
            # the files' own footers know their rows: no scan
            counts[name] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        else:
            if engine == "spark":
                t = _spark_view(con, _table_name(name, tag), SCHEMAS[name].empty_table())
            else:
                t = con.create_table(_table_name(name, tag), schema=ibis.Schema.from_pyarrow(SCHEMAS[name]))
            counts[name] = 0
        out[name] = t
    return con, out, counts


def open_records(workspace: Path, *, engine: str = "duckdb") -> Records:
    """The records of every batch committed in ``workspace`` (the files its manifest names:
    a batch being written, or left by a killed intake, is never read), on ``engine``."""
    from itsm_doctor.intake.workspace import open_reader_lock

    root = workspace / "records"
    if not root.is_dir():
        raise EngineError(f"{workspace} holds no records: run `itsm-doctor intake … --workspace {workspace}` first")
    guard = open_reader_lock(workspace)
    try:
        con, out, counts = _open_committed(workspace, engine)
    except BaseException:
        if guard is not None:
            guard.close()
        raise
    # intake quarantines every event naming an unknown ticket
    records = Records(engine=engine, con=con, tables=out, counts=counts, referential=True, _guard=guard)
    if guard is not None:  # the lock lasts as long as the records are in use
        weakref.finalize(records, guard.close)
    return records


@contextmanager
def opened(workspace: Path, *, engine: str = "duckdb") -> Iterator[Records]:
    records = open_records(workspace, engine=engine)
    try:
        yield records
    finally:
        if engine == "duckdb":
            records.con.disconnect()
