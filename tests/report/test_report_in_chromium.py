"""Open the report in headless Chromium with the network cut: no request leaves, no console
error, the main sections are there, and a ticket title holding <script> shows as text."""

from __future__ import annotations

import os
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
