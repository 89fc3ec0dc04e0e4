"""Batches across intakes: each ticket kept once (its latest version), batches listed and
removed, the manifest naming exactly the files readers open."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.intake.run import run_intake
from itsm_doctor.intake.workspace import committed_files, load_manifest
from itsm_doctor.records.text import is_formula, neutralise_formula
from itsm_doctor.sources.base import _FORMULA_SQL


def _tickets(ws: Path) -> tuple[int, int, int, int]:
    """(ticket rows, distinct ticket ids, resolved tickets, events) over every committed batch."""
    files = committed_files(ws)
    con = duckdb.connect()
    t = con.execute(
        "SELECT count(*), count(DISTINCT ticket_id), count(resolved_at) FROM read_parquet(?)",
        [[str(p) for p in files["ticket"]]],
    ).fetchone()
    [(events,)] = con.execute("SELECT count(*) FROM read_parquet(?)", [[str(p) for p in files["event"]]]).fetchall()
    assert t is not None
    return int(t[0]), int(t[1]), int(t[2]), int(events)


@pytest.fixture()
def month_and_quarter(tmp_path: Path, exports: Any) -> tuple[Path, Path]:
    # January: tickets 0-9 resolved, 10-19 still open; the quarter holds January again, every
    # ticket resolved by now, and February's tickets 20-39
    month = exports.write(tmp_path / "jan.csv", exports.rows(range(10)) + exports.rows(range(10, 20), resolve=False))
    quarter = exports.write(tmp_path / "q1.csv", exports.rows(range(20)) + exports.rows(range(20, 40), month=2))
    return month, quarter


@pytest.mark.parametrize("order", ["month first", "quarter first"])
def test_overlapping_exports_give_each_ticket_once(
    tmp_path: Path, month_and_quarter: tuple[Path, Path], order: str
) -> None:
    month, quarter = month_and_quarter
    first, second = (month, quarter) if order == "month first" else (quarter, month)
    ws = tmp_path / "ws"
    run_intake([first], source="bpic2013", workspace=ws)
    result = run_intake([second], source="bpic2013", workspace=ws)
    # 40 tickets once each; all resolved (the quarter's later version of 10-19 wins either
    # way); 3 events each = 120 (the month file alone had 10 x 3 + 10 x 2 = 50)
    assert _tickets(ws) == (40, 40, 40, 120)
    assert any("latest version of a ticket wins" in n for n in result.notes)
    batches = load_manifest(ws)["batches"]
    assert sum(b["records"]["ticket"] for b in batches) == 40
    assert sum(b["records"]["event"] for b in batches) == 120
    # every record file on disk is one a batch names: nothing stale is left for readers
    on_disk = sorted(p for p in (ws / "records").rglob("*.parquet"))
    assert on_disk == sorted(p for files in committed_files(ws).values() for p in files)


def test_overlapping_exports_through_examine_count_each_ticket_once(
    tmp_path: Path, month_and_quarter: tuple[Path, Path]
) -> None:
    month, quarter = month_and_quarter
    ws = tmp_path / "ws"
    for path in (month, quarter):
        out = tmp_path / f"{path.stem}.json"
        result = CliRunner().invoke(
            app, ["examine", str(path), "--source", "bpic2013", "--workspace", str(ws), "-q", "--json", str(out)]
        )
        assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["records"]["ticket"] == 40 and data["records"]["event"] == 120


def test_batches_list_and_remove(tmp_path: Path, exports: Any) -> None:
    ws = tmp_path / "ws"
    a = run_intake([exports.write(tmp_path / "a.csv", exports.rows(range(5)))], source="bpic2013", workspace=ws)
    b = run_intake([exports.write(tmp_path / "b.csv", exports.rows(range(5, 12)))], source="bpic2013", workspace=ws)
    runner = CliRunner()
    listed = runner.invoke(app, ["batches", "list", "--workspace", str(ws), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["batch"], r["records"]["ticket"]) for r in rows] == [(a.batch, 5), (b.batch, 7)]
    removed = runner.invoke(app, ["batches", "remove", a.batch[:6], "--workspace", str(ws)])
    assert removed.exit_code == 0, removed.output
    assert f"Removed batch {a.batch}" in removed.output
    assert _tickets(ws) == (7, 7, 7, 21)
    assert not list((ws / "records").rglob(f"{a.batch}*.parquet"))
    unknown = runner.invoke(app, ["batches", "remove", "ffffffff", "--workspace", str(ws)])
    assert unknown.exit_code == 2 and "no batch 'ffffffff'" in unknown.output
    # taken in again after removal: a new batch, the same records
    again = run_intake([tmp_path / "a.csv"], source="bpic2013", workspace=ws)
    assert not again.reused and _tickets(ws) == (12, 12, 12, 36)


def test_batches_quarantine_csv_neutralises_formulas(tmp_path: Path, exports: Any) -> None:
    rows = [*exports.rows(range(2)), "=1+1,not a time,Accepted,In Progress,G1,L1,PROD1,Bo"]
    rows.append("-2+3+cmd|' /C calc'!A0,also not a time,Accepted,In Progress,G1,L1,PROD1,Bo")
    ws = tmp_path / "ws"
    result = run_intake([exports.write(tmp_path / "f.csv", rows)], source="bpic2013", workspace=ws)
    [f] = result.files
    assert (f.rows_read, f.rows_quarantined) == (8, 2)
    assert any("formulas" in n and "2 row(s)" in n for n in f.notes)
    out = tmp_path / "q.csv"
    done = CliRunner().invoke(app, ["batches", "quarantine", result.batch, "--csv", str(out), "--workspace", str(ws)])
    assert done.exit_code == 0, done.output
    got = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["row"], r["column"], r["reason"]) for r in got] == [
        ("8", "Change Date+Time", "unparseable_time"),
        ("9", "Change Date+Time", "unparseable_time"),
    ]
    assert not any(is_formula(v) for r in got for v in r.values())


@pytest.mark.parametrize(
    ("cell", "formula"),
    [
        ("=1+1", True),
        ("-2+3+cmd|' /C calc'!A0", True),
        ("@SUM(A1:A2)", True),
        ('=HYPERLINK("http://evil.example","click")', True),
        ("\t=1+1", True),
        ("-3", False),
        ("-1.5e3", False),
        ("+33 1 23 45 67 89", False),
        ("-", False),
        ("2012-05-15", False),
    ],
)
def test_the_formula_detector_and_its_neutraliser(cell: str, formula: bool) -> None:
    assert is_formula(cell) is formula
    assert neutralise_formula(cell) == ("'" + cell if formula else cell)
    # the intake's own detector (SQL) agrees with the one every written CSV uses
    [(n,)] = (
        duckdb.connect()
        .execute("SELECT count(*) FROM (SELECT ? AS c0) WHERE " + _FORMULA_SQL.format(c="c0"), [cell])
        .fetchall()
    )
    assert bool(n) is formula
