from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from itsm_doctor.cli import app

CSV = """SR Number,Change Date+Time,Status,Sub Status,Involved ST,ST Level,Product,Owner First Name
1-1,2012-05-15T16:56:51+01:00,Accepted,In Progress,V30,L1,PROD1,Anna
1-1,2012-05-15T17:10:00+01:00,Completed,Resolved,V30,L1,PROD1,Anna
1-1,2012-05-15T17:10:00+01:00,Completed,Resolved,V30,L1,PROD1,Anna
"""


def test_intake_json_has_the_contract_shape(tmp_path: Path) -> None:
    (tmp_path / "vinst.csv").write_text(CSV, encoding="utf-8")
    out = tmp_path / "intake.json"
    result = CliRunner().invoke(
        app,
        [
            "intake",
            str(tmp_path / "vinst.csv"),
            "--source",
            "bpic2013",
            "--workspace",
            str(tmp_path / "ws"),
            "--json",
            str(out),
            "--max-quarantine",
            "50%",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["schema"] == "itsm-doctor/intake/1"
    [entry] = report["intake"]
    assert {k: entry[k] for k in ("source", "rows_read", "rows_accepted", "rows_quarantined", "reasons")} == {
        "source": "bpic2013",
        "rows_read": 3,
        "rows_accepted": 2,
        "rows_quarantined": 1,
        "reasons": {"exact_duplicate": 1},
    }
    assert entry["file"].endswith("vinst.csv")
    assert report["records"]["ticket"] == 1 and report["records"]["event"] == 2
    again = CliRunner().invoke(
        app, ["intake", str(tmp_path / "vinst.csv"), "--source", "bpic2013", "--workspace", str(tmp_path / "ws"), "-q"]
    )
    assert again.exit_code == 1  # 1 of 3 rows quarantined is above the default 1 %
    assert "already taken in" in again.output
