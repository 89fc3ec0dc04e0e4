"""What intake assumes reaches the user: on the terminal (intake and examine), in the
examination JSON (``assumptions``, and ``notes`` per intake entry) and in the HTML report."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from itsm_doctor.cli import app

# a ServiceNow list whose times carry no offset, with a column no canonical field takes (its
# name is markup: the report must show it as text)
LIST = """number,state,opened_at,resolved_at,closed_at,assignment_group,reassignment_count,<b>u_note</b>
INC001,Closed,2026-01-05 08:00:00,2026-01-05 10:00:00,2026-01-06 10:00:00,Desk,0,x
INC002,Closed,2026-01-05 09:00:00,2026-01-06 09:00:00,2026-01-07 09:00:00,Network,2,y
"""
CLOCK = "ServiceNow times carry no offset: read as UTC (give --timezone to change)"


def test_intake_and_examine_show_what_intake_assumed(tmp_path: Path) -> None:
    export = tmp_path / "incident.csv"
    export.write_text(LIST, encoding="utf-8")
    runner = CliRunner()
    taken = runner.invoke(app, ["intake", str(export), "--source", "servicenow", "--workspace", str(tmp_path / "a")])
    assert taken.exit_code == 0, taken.output
    assert f"assumed: {CLOCK}" in taken.output
    assert "1 column(s) not read (no canonical home): '<b>u_note</b>'" in taken.output

    exam_json, report = tmp_path / "exam.json", tmp_path / "report.html"
    examined = runner.invoke(
        app,
        [
            "examine",
            str(export),
            "--source",
            "servicenow",
            "--workspace",
            str(tmp_path / "b"),
            "--json",
            str(exam_json),
            "--report",
            str(report),
            "-q",
        ],
    )
    assert examined.exit_code == 0, examined.output
    assert f"assumed: {CLOCK}" in examined.output
    data = json.loads(exam_json.read_text(encoding="utf-8"))
    assert data["assumptions"] == [
        CLOCK,
        "incident.csv: 1 column(s) not read (no canonical home): '<b>u_note</b>'",
    ]
    assert data["intake"][0]["notes"] == ["1 column(s) not read (no canonical home): '<b>u_note</b>'"]
    html = report.read_text(encoding="utf-8")
    assert "What intake assumed" in html and CLOCK in html
    assert "&lt;b&gt;u_note&lt;/b&gt;" in html and "<b>u_note</b>" not in html

    # taken in again (same files): the records are reused and the assumptions still shown
    again = runner.invoke(app, ["intake", str(export), "--source", "servicenow", "--workspace", str(tmp_path / "a")])
    assert f"assumed: {CLOCK}" in again.output
