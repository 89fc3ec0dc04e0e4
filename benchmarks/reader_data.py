"""Generated exports for the reader benchmark (benchmarks/readers.py): N rows in each reader's layout.

Each layout starts from a small base made by the simulator in that layout (``itsm-doctor simulate
--format …``), or, for BPIC 2014, from the public sample in ``ITSM_DOCTOR_DATA``, and repeats it
with new keys until it holds N rows: copy k renames every key ``PREFIX<digits>`` to
``PREFIX<k as 4 digits><digits>`` (``INC00000042`` → ``INC001700000042``), and numeric ids become
``k·10⁸ + id``, so the copies are distinct tickets with the same shape. Dates are kept (the base
spans 12 months). The mapped-CSV presets (GLPI, iTop, Znuny, Zammad) are written from the
simulator's canonical tickets in each preset's own columns, words and time format.

The data lives under ``BENCH_DATA`` (default /work/bench-data/readers, else build/bench-data), never in git;
a layout already generated at the same size is reused.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BASE_TICKETS = 20_000


def data_root() -> Path:
    env = os.environ.get("BENCH_DATA")
    if env:
        return Path(env)
    return Path("/work/bench-data/readers") if Path("/work").is_dir() else ROOT / "build" / "bench-data"


@dataclass(frozen=True)
class CsvFile:
    """One CSV of a layout: its name, separator, the key columns renamed per copy, the numeric ids."""

    name: str
    keys: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    sep: str = ","


@dataclass(frozen=True)
class Layout:
    source: str
    base: str  # simulator format, "bpic2014" (the public sample) or "preset:<name>"
    csvs: tuple[CsvFile, ...] = ()
    others: tuple[str, ...] = field(default=())  # files repeated in Python (JSON, XES)


LAYOUTS: dict[str, Layout] = {
    "servicenow-snapshot": Layout(
        "servicenow", "servicenow", (CsvFile("incident_event_log.csv", keys=("number", "problem_id", "caused_by")),)
    ),
    "servicenow-list-audit": Layout(
        "servicenow",
        "servicenow-list",
        (
            CsvFile("incident.csv", keys=("number", "sys_id", "problem_id", "caused_by")),
            CsvFile("sys_audit.csv", keys=("documentkey",)),
        ),
    ),
    "jira": Layout(
        "jira",
        "jira",
        (
            CsvFile(
                "jira_export.csv",
                keys=("Issue key", "Inward issue link (Causes)", "Inward issue link (Problem/Incident)"),
                ids=("Issue id",),
            ),
        ),
        others=("jira_changelog.json",),
    ),
    "glpi": Layout("glpi", "preset:glpi"),
    "itop": Layout("itop", "preset:itop"),
    "znuny": Layout("znuny", "preset:znuny"),
    "zammad": Layout("zammad", "preset:zammad"),
    "bpic2014": Layout(
        "bpic2014",
        "bpic2014",
        (
            CsvFile("Detail_Incident.csv", keys=("Incident ID", "Related Interaction", "Related Change"), sep=";"),
            CsvFile("EventLog.csv", keys=("Incident ID",)),
        ),
    ),
    "xes": Layout("xes", "xes", others=("log.xes",)),
}

# canonical value → the preset's word (the inverse of each preset's maps in sources/presets/)
_PRESETS: dict[str, dict[str, object]] = {
    "glpi": {
        "file": "glpi.csv",
        "sep": ";",
        "time": "%d-%m-%Y %H:%M",
        "columns": {
            "ID": "ticket_id",
            "Titre": "title",
            "Statut": "status",
            "Type": "ticket_type",
            "Priorité": "priority",
            "Urgence": "urgency",
            "Demandeur - Demandeur": "requester_id",
            "Date d'ouverture": "opened_at",
            "Attribué à - Technicien": "assignee_id",
            "Attribué à - Groupe de techniciens": "assigned_group_id",
            "Catégorie": "category",
        },
        "status": {
            "new": "Nouveau",
            "assigned": "En cours (Attribué)",
            "in_progress": "En cours (Planifié)",
            "pending": "En attente",
            "resolved": "Résolu",
            "closed": "Clos",
            "cancelled": "Clos",
        },
        "type": {"incident": "Incident", "request": "Demande"},
        "priority": {1: "Majeure", 2: "Haute", 3: "Moyenne", 4: "Basse"},
    },
    "itop": {
        "file": "itop.csv",
        "sep": ",",
        "time": "%Y-%m-%d %H:%M:%S",
        "columns": {
            "ref": "ticket_id",
            "finalclass": "ticket_type",
            "title": "title",
            "status": "status",
            "priority": "priority",
            "urgency": "urgency",
            "impact": "impact",
            "service_id_friendlyname": "service_id",
            "team_id_friendlyname": "assigned_group_id",
            "agent_id_friendlyname": "assignee_id",
            "caller_id_friendlyname": "requester_id",
            "start_date": "opened_at",
            "resolution_date": "resolved_at",
            "close_date": "closed_at",
            "origin": "channel",
            "resolution_code": "resolution_code",
        },
        "channel": {"portal": "portal", "phone": "phone", "email": "mail", "chat": "chat", "walk_in": "in_person"},
        "status": {
            "new": "new",
            "assigned": "assigned",
            "in_progress": "assigned",
            "pending": "pending",
            "resolved": "resolved",
            "closed": "closed",
            "cancelled": "rejected",
        },
        "type": {"incident": "Incident", "request": "UserRequest"},
        "priority": {1: "1", 2: "2", 3: "3", 4: "4"},
    },
    "znuny": {
        "file": "znuny.csv",
        "sep": ";",
        "time": "%Y-%m-%d %H:%M:%S",
        "columns": {
            "Ticket#": "ticket_id",
            "Title": "title",
            "State": "status",
            "Priority": "priority",
            "Queue": "assigned_group_id",
            "Owner": "assignee_id",
            "Customer User": "requester_id",
            "Service": "service_id",
            "Type": "ticket_type",
            "Created": "opened_at",
            "Closed": "closed_at",
        },
        "status": {
            "new": "new",
            "assigned": "open",
            "in_progress": "open",
            "pending": "pending reminder",
            "resolved": "closed successful",
            "closed": "closed successful",
            "cancelled": "removed",
        },
        "type": {"incident": "Incident", "request": "Service Request"},
        "priority": {1: "5 very high", 2: "4 high", 3: "3 normal", 4: "2 low"},
    },
    "zammad": {
        "file": "zammad.csv",
        "sep": ",",
        "time": "%Y-%m-%d %H:%M:%S",
        "columns": {
            "number": "ticket_id",
            "title": "title",
            "state": "status",
            "priority": "priority",
            "group": "assigned_group_id",
            "owner": "assignee_id",
            "customer": "requester_id",
            "created_at": "opened_at",
            "first_response_at": "first_response_at",
            "close_at": "closed_at",
        },
        "status": {
            "new": "new",
            "assigned": "open",
            "in_progress": "open",
            "pending": "pending reminder",
            "resolved": "closed",
            "closed": "closed",
            "cancelled": "merged",
        },
        "type": {},
        "priority": {1: "3 high", 2: "3 high", 3: "2 normal", 4: "1 low"},
    },
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _new_key(col: str) -> str:
    """SQL: the key in ``col`` renamed for copy ``k`` (PREFIX + k as 4 digits + digits)."""
    return (
        f"CASE WHEN regexp_full_match({col}, '[A-Za-z]+[0-9]+') THEN regexp_extract({col}, '^[A-Za-z]+') "
        f"|| lpad(k::VARCHAR, 4, '0') || regexp_extract({col}, '[0-9]+$') ELSE {col} END"
    )


def _new_id(col: str) -> str:
    return f"CASE WHEN regexp_full_match({col}, '[0-9]+') THEN (k * 100000000 + {col}::BIGINT)::VARCHAR ELSE {col} END"


def _py_key(key: str, k: int) -> str:
    m = re.fullmatch(r"([A-Za-z]+)([0-9]+)", key)
    return f"{m.group(1)}{k:04d}{m.group(2)}" if m else key


def _simulate(fmt: str, out: Path) -> None:
    if (out / "truth.json").exists():
        return
    subprocess.run(
        [
            sys.executable,
            "-m",
            "itsm_doctor",
            "simulate",
            str(out),
            "--tickets",
            str(BASE_TICKETS),
            "--months",
            "12",
            "--seed",
            "7",
            "--start",
            "2025-01-01",
            "--format",
            fmt,
            "-q",
        ],
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )


def _base(layout: Layout) -> Path:
    root = data_root() / "base"
    if layout.base == "bpic2014":
        data = os.environ.get("ITSM_DOCTOR_DATA")
        if not data:
            raise SystemExit("the BPIC 2014 layout repeats the public sample: set ITSM_DOCTOR_DATA")
        return Path(data) / "bpic2014-sample"
    fmt = "canonical" if layout.base.startswith("preset:") else layout.base
    out = root / fmt
    _simulate(fmt, out)
    return out


def _csv_rows(con: duckdb.DuckDBPyConnection, path: Path, sep: str) -> int:
    [(n,)] = con.execute(
        "SELECT count(*) FROM read_csv(?, delim := ?, header := true, all_varchar := true, quote := '\"')",
        [str(path), sep],
    ).fetchall()
    return int(n)


def _repeat_csv(con: duckdb.DuckDBPyConnection, src: Path, dst: Path, spec: CsvFile, copies: int) -> int:
    """Write ``copies`` copies of the CSV ``src`` with renamed keys; returns the rows written."""
    rel = f"read_csv({_lit(str(src))}, delim := {_lit(spec.sep)}, header := true, all_varchar := true, quote := '\"')"
    names = [d[0] for d in con.execute(f"SELECT * FROM {rel} LIMIT 0").description or []]
    exprs = []
    for n in names:
        if n.lstrip("\ufeff") in spec.keys:
            exprs.append(f"{_new_key(_q(n))} AS {_q(n)}")
        elif n in spec.ids:
            exprs.append(f"{_new_id(_q(n))} AS {_q(n)}")
        else:
            exprs.append(_q(n))
    # the copies in key order: a real export lists a ticket's rows together
    written = con.execute(
        f"COPY (SELECT {', '.join(exprs)} FROM range({copies}) r(k), {rel}) TO {_lit(str(dst))} "
        f"(HEADER, DELIMITER {_lit(spec.sep)})"
    ).fetchone()
    return int(written[0]) if written else 0


def _repeat_changelog(src: Path, dst: Path, copies: int) -> int:
    """The Jira changelog (``{"issues": [...]}``) repeated with renamed keys and ids; returns its items."""
    issues = json.loads(src.read_text(encoding="utf-8"))["issues"]
    items = sum(len(h.get("items") or []) for i in issues for h in i["changelog"]["histories"])
    bodies = [json.dumps(i["changelog"]) for i in issues]
    with dst.open("w", encoding="utf-8") as out:
        out.write('{"issues": [')
        first = True
        for k in range(copies):
            for issue, body in zip(issues, bodies, strict=True):
                key = _py_key(issue["key"], k)
                head = json.dumps({"key": key, "id": str(k * 100000000 + int(issue["id"]))})[:-1]
                out.write(("" if first else ", ") + head + ', "changelog": ' + body + "}")
                first = False
        out.write("]}")
    return items * copies


def _repeat_xes(src: Path, dst: Path, copies: int) -> int:
    """The XES log repeated with renamed traces (concept:name of each trace); returns its events."""
    text = gzip.decompress(src.read_bytes()).decode("utf-8")
    start = text.index("<trace>")
    end = text.rindex("</trace>") + len("</trace>")
    head, body, tail = text[:start], text[start:end], text[end:]
    name = re.compile(r'(<trace><string key="concept:name" value=")([^"]*)(")')
    parts = body.split("<trace>")[1:]
    traces = []
    for part in parts:
        m = name.match("<trace>" + part)
        if not m:
            raise ValueError("a trace without its concept:name first")
        traces.append((m.group(2), ("<trace>" + part)[m.end() :]))
    events = body.count("<event>")
    with dst.open("w", encoding="utf-8") as out:
        out.write(head)
        for k in range(copies):
            out.write(
                "".join(f'<trace><string key="concept:name" value="{_py_key(key, k)}"{rest}' for key, rest in traces)
            )
        out.write(tail)
    return events * copies


def _preset_base(con: duckdb.DuckDBPyConnection, canonical: Path, preset: str, dst: Path) -> int:
    spec = _PRESETS[preset]
    cols: dict[str, str] = spec["columns"]  # type: ignore[assignment]
    status: dict[str, str] = spec["status"]  # type: ignore[assignment]
    types: dict[str, str] = spec["type"]  # type: ignore[assignment]
    prio: dict[int, str] = spec["priority"]  # type: ignore[assignment]
    fmt = _lit(str(spec["time"]))

    def case(col: str, mapping: dict[object, str]) -> str:
        whens = " ".join(f"WHEN {_lit(str(a)) if isinstance(a, str) else a} THEN {_lit(b)}" for a, b in mapping.items())
        return f"CASE {col} {whens} END"

    exprs = []
    for header, canon in cols.items():
        if canon == "status":
            e = case("status", status)
        elif canon == "ticket_type":
            e = case("ticket_type", types) if types else "ticket_type"
        elif canon == "priority":
            e = case("priority", prio)
        elif canon == "channel":
            e = case("channel", spec["channel"])  # type: ignore[arg-type]
        elif canon in ("urgency", "impact"):
            e = f"{canon}::VARCHAR"
        elif canon.endswith("_at"):
            e = f"strftime({canon} AT TIME ZONE 'UTC', {fmt})"
        else:
            e = canon
        exprs.append(f"{e} AS {_q(header)}")
    written = con.execute(
        f"COPY (SELECT {', '.join(exprs)} FROM read_parquet({_lit(str(canonical / 'ticket.parquet'))}) "
        f"WHERE ticket_type IN ('incident', 'request') ORDER BY ticket_id) TO {_lit(str(dst))} "
        f"(HEADER, DELIMITER {_lit(str(spec['sep']))})"
    ).fetchone()
    return int(written[0]) if written else 0


def generate(name: str, rows: int) -> tuple[list[Path], int]:
    """The files of layout ``name`` holding about ``rows`` rows (whole copies of the base, at least
    ``rows``), and the rows they hold. Reused when already generated at that size."""
    layout = LAYOUTS[name]
    base = _base(layout)
    out = data_root() / f"{name}-{rows}"
    done = out / "rows.json"
    if done.exists():
        meta = json.loads(done.read_text(encoding="utf-8"))
        return [out / f for f in meta["files"]], int(meta["rows"])
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    con.execute("SET preserve_insertion_order = false")  # copies may interleave: a cross product kept in order OOMs
    con.execute(f"SET temp_directory = {_lit(str(out / 'spill'))}")
    try:
        csvs = list(layout.csvs)
        if layout.base.startswith("preset:"):
            preset = layout.base.split(":", 1)[1]
            pspec = _PRESETS[preset]
            src_dir = out / "base"
            src_dir.mkdir(exist_ok=True)
            _preset_base(con, base, preset, src_dir / str(pspec["file"]))
            key = next(h for h, c in pspec["columns"].items() if c == "ticket_id")  # type: ignore[attr-defined]
            csvs = [CsvFile(str(pspec["file"]), keys=(key,), sep=str(pspec["sep"]))]
            base = src_dir
        per_copy = 0
        for spec in csvs:
            per_copy += _csv_rows(con, base / spec.name, spec.sep)
        if "jira_changelog.json" in layout.others:
            issues = json.loads((base / "jira_changelog.json").read_text(encoding="utf-8"))["issues"]
            per_copy += sum(len(h.get("items") or []) for i in issues for h in i["changelog"]["histories"])
        if "log.xes" in layout.others:
            per_copy += gzip.decompress((base / "log.xes.gz").read_bytes()).count(b"<event>")
        copies = max(1, math.ceil(rows / per_copy))
        total = 0
        files: list[str] = []
        for spec in csvs:
            total += _repeat_csv(con, base / spec.name, out / spec.name, spec, copies)
            files.append(spec.name)
        if "jira_changelog.json" in layout.others:
            total += _repeat_changelog(base / "jira_changelog.json", out / "jira_changelog.json", copies)
            files.append("jira_changelog.json")
        if "log.xes" in layout.others:
            total += _repeat_xes(base / "log.xes.gz", out / "log.xes", copies)
            files.append("log.xes")
    finally:
        con.close()
    done.write_text(json.dumps({"rows": total, "copies": copies, "files": files}), encoding="utf-8")
    return [out / f for f in files], total


if __name__ == "__main__":
    for arg in sys.argv[2:] or list(LAYOUTS):
        paths, n = generate(arg, int(sys.argv[1]))
        print(arg, n, [str(p) for p in paths])
