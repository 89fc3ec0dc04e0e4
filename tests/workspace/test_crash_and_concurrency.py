"""A workspace survives kill -9 at any point of an intake, and two writers with a reader at
once: readers see whole batches only, every batch is present once, a re-run recovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.intake.run import run_intake
from itsm_doctor.intake.workspace import committed_files, load_manifest

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **extra}
    env.pop("ITSM_DOCTOR_CRASH_AT", None)
    env.update(extra)
    return env


def _intake_cmd(path: Path, ws: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "itsm_doctor",
        "intake",
        str(path),
        "--source",
        "bpic2013",
        "--workspace",
        str(ws),
        "-q",
    ]


def _content(ws: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every committed table's rows, sorted: what a clean run must equal."""
    con = duckdb.connect()
    out = {}
    for table, files in committed_files(ws).items():
        if files:
            out[table] = sorted(
                con.execute("SELECT * FROM read_parquet(?)", [[str(p) for p in files]]).fetchall(), key=repr
            )
    return out


def _examine_ok(path: Path, ws: Path) -> dict[str, int]:
    result = CliRunner().invoke(app, ["examine", str(path), "--source", "bpic2013", "--workspace", str(ws), "-q"])
    assert result.exit_code == 0, result.output
    return {t: len(rows) for t, rows in _content(ws).items()}


@pytest.mark.parametrize("point", ["staged", "moving", "moved", "committed", "timed"])
def test_kill_9_during_an_intake_then_examine_and_rerun(tmp_path: Path, exports: Any, point: str) -> None:
    first = exports.write(tmp_path / "a.csv", exports.rows(range(30)))
    second = exports.write(tmp_path / "b.csv", exports.rows(range(20, 400)) + exports.rows(range(400, 800), month=2))
    clean = tmp_path / "clean"
    run_intake([first], source="bpic2013", workspace=clean)
    run_intake([second], source="bpic2013", workspace=clean)

    ws = tmp_path / "ws"
    run_intake([first], source="bpic2013", workspace=ws)
    if point == "timed":  # a kill at whatever point the intake has reached after a moment
        proc = subprocess.Popen(_intake_cmd(second, ws), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    else:
        done = subprocess.run(_intake_cmd(second, ws), env=_env(ITSM_DOCTOR_CRASH_AT=point), capture_output=True)
        assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    batches = [b["batch"] for b in load_manifest(ws)["batches"]]
    if point != "committed" and point != "timed":
        assert len(batches) == 1  # the killed batch is not visible
        assert (ws / "tmp").is_dir()  # what the killed run left
    # examine reads the batches committed before the kill (the first file: a batch taken in already)
    seen = _examine_ok(first, ws)
    assert seen["ticket"] in (30, 800)  # before or after the killed commit, never in between
    assert not (ws / "tmp").exists()  # the next writer cleaned the killed run's staging folder
    # the re-run completes, with records identical to a clean run's
    rerun = subprocess.run(_intake_cmd(second, ws), env=_env(), capture_output=True)
    assert rerun.returncode == 0, rerun.stderr.decode()
    assert _content(ws) == _content(clean)
    assert len(load_manifest(ws)["batches"]) == 2
    on_disk = sorted((ws / "records").rglob("*.parquet"))
    assert on_disk == sorted(p for files in committed_files(ws).values() for p in files)


_READER = """
import json, sys, time
from pathlib import Path
from itsm_doctor.engine import opened
ws = Path(sys.argv[1]); stop = Path(sys.argv[2]); seen = set()
while not stop.exists():
    if (ws / "intake.json").exists():
        with opened(ws) as r:
            n = r.execute(r["ticket"].count())
            ids = r.execute(r["ticket"].ticket_id.nunique())
        assert n == ids, (n, ids)
        seen.add(int(n))
    time.sleep(0.05)
print(json.dumps(sorted(seen)))
"""


def test_two_writers_and_a_reader_at_once(tmp_path: Path, exports: Any) -> None:
    files = [
        exports.write(tmp_path / f"part{k}.csv", exports.rows(range(k * 300, (k + 1) * 300), month=k + 1))
        for k in range(4)
    ]
    ws = tmp_path / "ws"
    run_intake([files[0]], source="bpic2013", workspace=ws)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(ws), str(stop)], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    writers = [
        subprocess.Popen(_intake_cmd(f, ws), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for f in files[1:]
    ]
    codes = []
    for w in writers:
        _out, err = w.communicate()
        codes.append((w.returncode, err.decode()))
    stop.touch()
    out, errors = reader.communicate()
    assert all(code == 0 for code, _ in codes), codes
    assert reader.returncode == 0, errors.decode()
    counts = json.loads(out.decode())
    # readers saw whole batches only: 300 tickets per committed batch, never a part of one
    assert counts and set(counts) <= {300, 600, 900, 1200}
    batches = load_manifest(ws)["batches"]
    assert sorted(b["files"][0]["path"] for b in batches) == sorted(str(f) for f in files)
    assert len({b["batch"] for b in batches}) == 4
    assert {t: len(rows) for t, rows in _content(ws).items() if t in ("ticket", "event")} == {
        "ticket": 1200,
        "event": 3600,
    }
