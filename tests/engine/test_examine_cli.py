"""``itsm-doctor examine`` and ``itsm-doctor catalog signs`` end to end, with their exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from itsm_doctor.cli import app
from itsm_doctor.examination import Examination
from itsm_doctor.signs import SIGNS

HERE = Path(__file__).parent
TINY = HERE / "vinst-tiny.csv"
BAD = HERE / "vinst-one-bad-row.csv"


def _examine(tmp_path: Path, *args: str) -> tuple[int, str, dict[str, Any] | None]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "exam.json"
    result = CliRunner().invoke(
        app, ["examine", *args, "--workspace", str(tmp_path / "ws"), "--json", str(out), "--quiet"]
    )
    data = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    return result.exit_code, result.output, data


def _values(data: dict[str, Any]) -> dict[str, Any]:
    return {s["id"]: s["value"] for s in data["signs"]}


def test_examine_writes_the_examination_contract(tmp_path: Path) -> None:
    code, output, data = _examine(tmp_path, str(TINY), "--source", "bpic2013")
    assert code == 0, output
    assert data is not None
    exam = Examination.model_validate(data)  # the JSON is the typed contract
    assert data["schema"] == "itsm-doctor/examination/1"
    assert exam.visit.period.from_ == "2012-05-07T09:00:00+00:00"
    assert [(e.rows_read, e.rows_accepted, e.rows_quarantined) for e in exam.intake] == [(11, 11, 0)]
    assert len(exam.signs) == len(SIGNS)
    values = _values(data)
    # 1-B waits on the user, goes T1 → T2 → T1 → T2 and reaches tier 2; 1-A and 1-C stay in T1
    assert values["incident.wait_user_rate"] == pytest.approx(1 / 3)
    assert values["incident.ping_pong_rate"] == pytest.approx(1 / 3)
    assert values["desk.first_line_only_rate"] == pytest.approx(2 / 3)
    assert values["incident.mttr"] == pytest.approx(6.0)  # 1 h, 27 h, 6 h
    by_id = {s.id: s for s in exam.signs}
    assert by_id["incident.sla_compliance"].status == "n/a"
    assert "sla_target" in (by_id["incident.sla_compliance"].reason or "")
    if exam.diagnoses:  # the diagnosis step is installed: every verdict fits the contract
        verdicts = {d.id: d.verdict for d in exam.diagnoses}
        # no change records in a VINST export: that dysfunction cannot be judged, never "absent"
        assert verdicts.get("change-induced-incidents", "undetermined") == "undetermined"
        assert all(p.moves for p in exam.prescriptions)
    else:
        assert exam.prescriptions == []
        assert any("diagnosis not yet available" in n for n in exam.notes)
    assert exam.process["handovers"][0]["count"] == 2  # T1 → T2 twice
    assert "incident.ping_pong_rate" in output and "n/a" in output


def test_symptoms_enter_the_examination(tmp_path: Path) -> None:
    answers = Path(__file__).resolve().parents[2] / "examples" / "answers.yaml"
    code, output, data = _examine(tmp_path, str(TINY), "--source", "bpic2013", "--symptoms", str(answers))
    assert code == 0, output
    assert data is not None
    if not data["diagnoses"]:  # until a diagnosis step is installed, the file is not read
        assert any("symptoms not yet available" in n for n in data["notes"])


def test_an_invalid_symptoms_file_exits_2_naming_it(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("answers: []\n", encoding="utf-8")
    code, output, data = _examine(tmp_path, str(TINY), "--source", "bpic2013", "--symptoms", str(answers))
    assert code == 2 and data is None
    assert "answers.yaml" in output and "Traceback" not in output


def test_quarantine_above_the_allowed_share_exits_1(tmp_path: Path) -> None:
    code, output, data = _examine(tmp_path, str(BAD), "--source", "bpic2013")
    assert code == 1, output
    assert data is not None
    # one row of eleven has an unknown status: 9.09 % > the default 1 %
    assert data["intake"][0]["rows_quarantined"] == 1
    assert data["intake"][0]["rows_read"] == data["intake"][0]["rows_accepted"] + 1
    assert "quarantined 9.09%" in output


def test_quarantine_within_the_allowed_share_exits_0(tmp_path: Path) -> None:
    code, output, _data = _examine(tmp_path, str(BAD), "--source", "bpic2013", "--max-quarantine", "0.1")
    assert code == 0, output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "nosuch"], "--source 'nosuch': unknown source"),
        (["--source", "bpic2013", "--engine", "oracle"], "--engine 'oracle': unknown engine"),
        (["--source", "bpic2013", "--symptoms", "missing.yaml"], "no such answers file"),
    ],
    ids=["unknown-source", "unknown-engine", "missing-symptoms"],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, output, data = _examine(tmp_path, str(TINY), *args)
    assert code == 2 and data is None
    assert message in output


def test_an_unreadable_path_exits_2(tmp_path: Path) -> None:
    code, output, data = _examine(tmp_path, str(tmp_path / "nothing.csv"), "--source", "bpic2013")
    assert code == 2 and data is None
    assert re.search(r"error: file \S*nothing\.csv: no such file or folder", " ".join(output.split()))


def test_catalog_signs_prints_every_sign_with_its_definition() -> None:
    result = CliRunner().invoke(app, ["catalog", "signs"])
    assert result.exit_code == 0
    for sign in SIGNS:
        assert sign.id in result.output
    assert "X → Y → X" in result.output
    assert f"{len(SIGNS)} signs" in result.output


@pytest.mark.spark
def test_examine_on_spark_gives_the_duckdb_values(tmp_path: Path, spark: Any) -> None:
    code, output, on_spark = _examine(tmp_path / "s", str(TINY), "--source", "bpic2013", "--engine", "spark")
    assert code == 0, output
    _code, _output, on_duckdb = _examine(tmp_path / "d", str(TINY), "--source", "bpic2013")
    assert on_spark is not None and on_duckdb is not None
    spark_values, duck_values = _values(on_spark), _values(on_duckdb)
    assert spark_values.keys() == duck_values.keys()
    for sign_id, value in duck_values.items():
        assert spark_values[sign_id] == (None if value is None else pytest.approx(value, abs=1e-9)), sign_id
