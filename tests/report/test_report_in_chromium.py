"""Open the report in headless Chromium with the network cut: no request leaves, no console
error, the main sections are there, and a ticket title holding <script> shows as text."""

from __future__ import annotations

import copy
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from itsm_doctor.report import write_html

CHROMIUM = os.environ.get("ITSM_DOCTOR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Chromium not installed (make installs Debian's chromium; or set ITSM_DOCTOR_CHROMIUM)",
)

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_report_opens_offline_in_chromium(
    tmp_path: Path, examination: dict[str, Any], followup: dict[str, Any]
) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "CI must have Chromium: see the Makefile's system-deps target"
    report = write_html(tmp_path / "report.html", examination, followup=followup)
    requests: list[str] = []
    console_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        context = browser.new_context(offline=True)
        page = context.new_page()
        page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: console_errors.append(str(exc)))
        page.on("request", lambda req: requests.append(req.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        headings = page.locator("section h2").all_inner_texts()
        example = page.locator("#signs td.muted", has_text="printer on fire").inner_text()
        script_tags = page.locator("script").count()
        svgs = page.locator("svg").count()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert requests == [report.as_uri()]  # only the file itself
    assert console_errors == []
    assert headings[:4] == [
        "The patient at a glance",
        "Diagnoses",
        "Prescriptions, by sphere of influence",
        "Signs, by audit area",
    ]
    assert "Process map" in headings and "Follow-up" in headings and "Intake" in headings
    assert "<script>alert('x')</script> printer on fire" in example
    assert script_tags == 0
    assert svgs >= 5  # trend, status map, handover heatmap, radar, control chart, follow-up trend
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_every_chart_agrees_with_its_table_and_marks_adoptions(
    tmp_path: Path, examination: dict[str, Any], followup: dict[str, Any], report_chart_problems: Any
) -> None:
    """The traps of issue 15 on a small patient: a trend sign (a ratio) whose months are hours,
    hours shown in days, a sign with two months, shares between 1 % and 2 %, and a follow-up
    whose prescription was adopted in March."""
    exam = copy.deepcopy(examination)
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    exam["signs"] += [
        {
            "id": "incident.mttr_trend",
            "name": "Trend of resolution time",
            "area": "performance",
            "value": -0.012,
            "unit": "ratio",
            "direction": "lower",
            "benchmark": {"good": 0.1, "poor": 0.4, "source": "no published benchmark; ITSM Doctor working band"},
            "status": "good",
            "breakdowns": {"month": dict(zip(months, [920.0, 893.0, 1034.0, 950.0], strict=True))},
        },
        {
            "id": "incident.backlog_age_p90",
            "name": "Age of the open backlog (p90)",
            "area": "performance",
            "value": 990.0,
            "unit": "h",
            "direction": "lower",
            "benchmark": {"good": 240.0, "poor": 720.0, "source": "no published benchmark; ITSM Doctor working band"},
            "status": "poor",
            "breakdowns": {"month": dict(zip(months, [893.0, 1034.0, 960.0, 1001.0], strict=True))},
        },
        {
            "id": "incident.reopen_rate",
            "name": "Reopen rate",
            "area": "quality",
            "value": 0.014,
            "unit": "ratio",
            "direction": "lower",
            "benchmark": {"good": 0.05, "poor": 0.12, "source": "no published benchmark"},
            "status": "good",
            "breakdowns": {"month": dict(zip(months, [0.012, 0.02, 0.011, 0.01], strict=True))},
        },
        {
            "id": "incident.recurring_rate",
            "name": "Recurring incidents",
            "area": "quality",
            "value": 0.2,
            "unit": "ratio",
            "direction": "lower",
            "benchmark": {"good": 0.1, "poor": 0.25, "source": "no published benchmark"},
            "status": "fair",
            "breakdowns": {"month": {"2026-01": 0.18, "2026-02": 0.22}},
        },
    ]
    fu = copy.deepcopy(followup)
    fu["effects"][0].update({"dysfunction": "assignment-ping-pong", "since": "2026-03-01"})
    fu["control_charts"][0]["chart"]["labels"] = months[:3]
    report = write_html(tmp_path / "report.html", exam, followup=fu)
    seen, problems = report_chart_problems(report)
    assert problems == []
    trends = {c["sign"]: c for c in seen["charts"] if c["kind"] == "trend"}
    # drawn: ping-pong (4 months), the backlog age in days, the reopen rate with distinct ticks
    assert set(trends) == {"incident.ping_pong_rate", "incident.backlog_age_p90", "incident.reopen_rate"}
    assert (
        trends["incident.backlog_age_p90"]["title"] == "days"
        and trends["incident.backlog_age_p90"]["table"] == "41.2 d"
    )
    assert trends["incident.reopen_rate"]["y"] == ["1.0%", "1.5%", "2.0%"]  # distinct, not 1 %, 1 %, 2 %
    [control] = [c for c in seen["charts"] if c["kind"] == "control"]
    assert control["adopted"] == ["2026-03"] and "adopted 2026-03-01" in control["words"]


@pytest.mark.realdata
def test_the_bpic2013_report_charts_agree_with_their_tables(
    tmp_path: Path, data: Path, report_chart_problems: Any
) -> None:
    """The VINST incidents of BPIC 2013 (real records, 2010-03 to 2012-05): every chart
    Chromium shows agrees with its table, and each sign without one says why."""
    from typer.testing import CliRunner

    from itsm_doctor.cli import app

    report = tmp_path / "report.html"
    args = ["examine", str(data / "bpic2013" / "VINST-incidents.csv.gz"), "--source", "bpic2013"]
    result = CliRunner().invoke(app, [*args, "--workspace", str(tmp_path / "ws"), "--report", str(report), "-q"])
    assert result.exit_code == 0, result.output
    seen, problems = report_chart_problems(report)
    assert problems == []
    assert len([c for c in seen["charts"] if c["kind"] == "trend"]) >= 10
    html = report.read_text(encoding="utf-8")
    assert "records from 2010-03 – 2012-05" in html
    drawn = {c["sign"] for c in seen["charts"]}
    rows = re.findall(r'<tr data-sign="([^"]+)">(.*?)</tr>', html, flags=re.DOTALL)
    for sign, row in rows:  # a measured sign has its chart or says why it has none
        if "n/a" not in row and sign not in drawn:
            assert "no chart:" in row, sign
