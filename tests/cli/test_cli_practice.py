"""The command line a consultant lives in: a fast start (lazy imports), -h, readable option
types, output that reads at 80 columns and through a pipe, the patient carried across
commands, and read-only commands that write nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from itsm_doctor.cli import COMMANDS, app
from itsm_doctor.cli._progress import PlainProgress
from itsm_doctor.signs import SIGNS
from itsm_doctor.store import Store

TINY = Path(__file__).parents[1] / "engine" / "vinst-tiny.csv"
HEAVY = ("ibis", "duckdb", "sqlalchemy", "alembic", "scipy", "altair", "pyarrow")
NARROW = {"COLUMNS": "80", "TERM": "dumb"}


def _run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env or NARROW, input=stdin)
    return result.exit_code, result.output


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    script = (
        "import sys\n"
        "from itsm_doctor.cli import app\n"
        "try:\n"
        "    app(['--help'], standalone_mode=False)\n"
        "finally:\n"
        f"    print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, **NARROW}, check=True
    )
    assert "LOADED []" in done.stdout
    for name in COMMANDS:  # every command is listed in the help without being imported
        assert f" {name} " in done.stdout


@pytest.mark.parametrize(
    "args", [["-h"], ["examine", "-h"], ["register", "-h"], ["register", "adopt", "-h"], ["followup", "-h"]]
)
def test_help_takes_minus_h_and_prints_readable_types_at_80_columns(args: list[str]) -> None:
    code, output = _run(*args)
    assert code == 0, output
    assert "Usage:" in output
    for python_type in ("<bool>", "<str>", "<path>", "<list[", "<int>", "<float>"):
        assert python_type not in output
    assert max(len(line) for line in output.splitlines()) <= 80


def test_every_command_on_a_patient_takes_organisation_and_patient() -> None:
    for args in (["examine"], ["followup"], ["register", "list"], ["register", "adopt"], ["register", "status"]):
        code, output = _run(*args, "-h")
        assert code == 0 and "--organisation" in output and "--patient" in output, args


def _piped(*args: str, columns: str | None = "80") -> str:
    """The command in its own process with stdout a pipe, as `itsm-doctor … | less` runs it."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | ({"COLUMNS": columns} if columns else {})
    done = subprocess.run(
        [sys.executable, "-m", "itsm_doctor", *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout


@pytest.mark.parametrize("columns", ["80", None])
def test_catalog_signs_reads_at_80_columns_and_when_piped(columns: str | None) -> None:
    lines = _piped("catalog", "signs", columns=columns).splitlines()
    assert max(len(line) for line in lines) <= 80
    assert not any(line.endswith(" ") for line in lines)
    heads = {line.split(" — ")[0] for line in lines if " — " in line and not line.startswith(" ")}
    assert heads == {s.id for s in SIGNS}  # every id whole, at the start of its own line
    # bands as the report shows them (%), with the better direction
    fcr = lines[lines.index("desk.first_contact_resolution — First contact resolution") + 1]
    assert fcr == "      share (%), higher is better · good ≥ 70.0% · poor ≤ 55.0%"


def test_the_other_libraries_read_at_80_columns() -> None:
    for library in ("dysfunctions", "questions"):
        lines = _piped("catalog", library).splitlines()
        assert len(lines) > 50 and max(len(line) for line in lines) <= 80, library


def test_plain_progress_lines_when_piped() -> None:
    from io import StringIO

    from rich.console import Console

    sink = StringIO()
    progress = PlainProgress(Console(file=sink, width=80))
    task = progress.add_task("starting intake")
    for k in range(1, 51):  # 50 signs, one message each: a line per tenth, not per sign
        progress.update(task, description="measuring signs", total=50, completed=k)
    progress.update(task, description="diagnosis", total=None)
    assert sink.getvalue().splitlines() == [
        "starting intake",
        "measuring signs: 0%",
        *(f"measuring signs: {10 * t}%" for t in range(1, 11)),
        "diagnosis",
    ]


def test_examine_through_a_pipe_prints_progress_lines(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["examine", str(TINY), "--source", "bpic2013", "--workspace", str(tmp_path)], env=NARROW
    )
    assert result.exit_code == 0, result.output
    assert "measuring signs: 50%" in result.stderr and "measuring signs: 100%" in result.stderr
    assert "\r" not in result.stderr and "\x1b[" not in result.stderr
    # prescription ids on the terminal, with the command that adopts one
    assert f"register adopt ID --owner ROLE --workspace {tmp_path}" in result.stdout


def _visit(store: Store, slug: str, organisation: str = "default") -> None:
    exam = {
        "schema": "itsm-doctor/examination/1",
        "visit": {"id": f"v-{slug}", "period": {"from": "2026-01-01", "to": "2026-06-30"}},
        "signs": [{"id": "incident.ping_pong_rate", "name": "Ping-pong rate", "direction": "lower"}],
        "diagnoses": [{"id": "assignment-ping-pong", "name": "Assignment ping-pong"}],
        "prescriptions": [
            {
                "id": "assignment-matrix",
                "dysfunction": "assignment-ping-pong",
                "title": "Publish an assignment matrix by service and CI",
                "sphere": "department",
                "moves": ["incident.ping_pong_rate"],
            },
            {
                "id": "swarming",
                "dysfunction": "assignment-ping-pong",
                "title": "Swarm on tickets that cross teams",
                "sphere": "team",
                "moves": ["incident.ping_pong_rate"],
            },
        ],
    }
    store.record_visit(patient=store.patient(slug=slug, organisation=organisation), examination=exam, fingerprints=[])


def test_one_patient_needs_no_patient_option_and_adopting_is_careful(tmp_path: Path) -> None:
    store = Store.open(workspace=tmp_path)
    _visit(store, "acme")
    ws = ["--workspace", str(tmp_path)]
    # adopt by title, any case; the id and the entry number are printed
    code, output = _run(
        "register", "adopt", "swarm on tickets that cross teams", "--owner", "desk lead", "--since", "2026-07-01", *ws
    )
    assert code == 0, output
    assert "Adopted Swarm on tickets that cross teams (swarming) as register entry 1" in output
    # adopting again (by id) adds nothing
    code, output = _run("register", "adopt", "swarming", "--owner", "someone else", *ws)
    assert code == 0 and "already in the register as entry 1" in output
    who = store.every_patient()[0][1]
    assert [(e.prescription_id, e.owner) for e in store.register(patient=who)] == [("swarming", "desk lead")]
    # a status dated before the adoption is refused; on or after it is taken
    code, output = _run("register", "status", "1", "in_progress", "--on", "2026-06-30", *ws)
    assert code == 2 and "adopted on 2026-07-01" in output
    code, output = _run("register", "status", "1", "in_progress", "--on", "2026-07-01", *ws)
    assert code == 0, output
    assert store.register(patient=who)[0].started_on == date(2026, 7, 1)
    # an unknown prescription lists what the visit offered, with ids
    code, output = _run("register", "adopt", "astrology", "--owner", "x", *ws)
    assert code == 2 and "assignment-matrix  Publish an assignment matrix" in output
    # the register reads at 80 columns, with sign names
    code, output = _run("register", "list", *ws)
    assert code == 0
    assert output.splitlines()[:3] == [
        "Improvement register of acme (1 entry)",
        "",
        "#1  Swarm on tickets that cross teams",
    ]
    assert "    should move: Ping-pong rate ↓" in output.splitlines()
    assert max(len(line) for line in output.splitlines()) <= 80
    assert [p.slug for _, p in store.every_patient()] == ["acme"]  # nobody was created


def test_several_patients_must_be_named_and_read_only_commands_write_nothing(tmp_path: Path) -> None:
    store = Store.open(workspace=tmp_path / "ws")
    _visit(store, "acme")
    _visit(store, "beta", organisation="other")
    ws = ["--workspace", str(tmp_path / "ws")]
    code, output = _run("register", "list", *ws)
    assert code == 2 and "acme (default), beta (other)" in output and "--patient" in output
    code, output = _run("register", "list", "--organisation", "other", *ws)
    assert code == 0 and "Improvement register of beta" in output
    code, output = _run("register", "list", "--patient", "gamma", *ws)
    assert code == 2 and "no patient 'gamma'" in output
    assert len(store.every_patient()) == 2
    # on a folder that holds no workspace: an error, and no folder or database left behind
    for args in (["register", "list"], ["followup"], ["register", "adopt", "swarming", "--owner", "x"]):
        code, output = _run(*args, "--workspace", str(tmp_path / "nothing"))
        assert code == 2 and "holds no patient yet" in output, args
    assert not (tmp_path / "nothing").exists()


def test_examine_in_a_workspace_of_one_patient_adds_a_visit_to_that_patient(tmp_path: Path) -> None:
    store = Store.open(workspace=tmp_path)
    _visit(store, "acme")
    code, output = _run(
        "examine",
        str(TINY),
        "--source",
        "bpic2013",
        "--workspace",
        str(tmp_path),
        "-q",
        "--json",
        str(tmp_path / "exam.json"),
    )
    assert code == 0, output
    assert json.loads((tmp_path / "exam.json").read_text())["patient"] == "acme"
    [(_, acme)] = store.every_patient()
    assert len(store.visits(patient=acme)) == 2


@pytest.mark.spark
@pytest.mark.skipif(
    __import__("importlib").util.find_spec("pyspark") is None, reason="pyspark not installed (extra 'spark')"
)
def test_spark_keeps_the_jvm_warnings_out_of_the_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "itsm_doctor", "examine", str(TINY), "--source", "bpic2013", "--engine", "spark"),
            *("--workspace", str(tmp_path), "--json", str(tmp_path / "exam.json")),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "exam.json").read_text())["signs"]
    # stderr holds our progress lines only; the JVM's start-up lines went to the workspace's log
    for noise in ("log4j", "WARN", "NativeCodeLoader", "Setting default log level"):
        assert noise not in done.stderr
    # the JVM's output went to the workspace's log, and log4j took the package's configuration
    assert "default log4j profile" not in (tmp_path / "spark.log").read_text()
    assert "measuring signs: 100%" in done.stderr


def test_long_help_rewraps_its_paragraphs_at_80_columns() -> None:
    code, output = _run("simulate", "-h")
    assert code == 0
    # the source's line break after "and" is gone: the paragraph flows on at 80 columns
    assert " canonical`) and truth.json ({" in output
    code, output = _run("register", "status", "-h")
    assert code == 0 and "STATUS      <str>" not in output and "STATUS      STATUS" in output
