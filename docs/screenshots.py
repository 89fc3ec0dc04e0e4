"""Render a report, or the web app's main pages, in headless Chromium and save what a person
sees (docs/screenshots/).

    .venv/bin/python docs/screenshots.py REPORT.html [NAME]
    .venv/bin/python docs/screenshots.py --web        # the web app: web-*.png

Uses Debian's Chromium (the Makefile's system-deps installs it) through Playwright, network
off, a 1280-pixel-wide window: one full-page image and one of the first screen. ``--web``
starts ``itsm-doctor serve``'s app on a loopback port with a temporary workspace, walks the
journey as a person does (sign in, create an organisation, upload the ServiceNow sample from
ITSM_DOCTOR_DATA and a later simulated export, adopt a prescription, invite respondents) and
shoots the main pages on the way.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def main(report: Path, name: str) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium not found: run `make system-deps` (Debian) or install it")
    HERE.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_context(offline=True, viewport={"width": 1280, "height": 900}).new_page()
        page.goto(report.resolve().as_uri())
        page.add_style_tag(content="nav { position: static; }")  # no sticky bar over section shots
        page.screenshot(path=str(HERE / f"{name}-top.png"))
        for section in ("diagnoses", "signs", "process", "followup"):
            element = page.locator(f"#{section}")
            box = element.bounding_box() if element.count() else None
            if box:  # the section's first 1,400 pixels: long sections (every control chart) stay readable
                clip = {"x": box["x"], "y": box["y"], "width": box["width"], "height": min(box["height"], 1400)}
                page.screenshot(path=str(HERE / f"{name}-{section}.png"), clip=clip, full_page=True)
        browser.close()
    print(f"screenshots in {HERE}")


def _chromium() -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium not found: run `make system-deps` (Debian) or install it")
    return chromium


def _examine(page: Any, base: str, path: Path, patient: str) -> None:
    page.goto(f"{base}/o/acme/uploads")
    page.set_input_files("input[name=files]", str(path))
    page.click("button:has-text('Upload')")
    page.wait_for_url(re.compile(r".*/examinations/new\?upload=\d+$"))
    page.fill("input[name=patient]", patient)
    page.click("button:has-text('Start the examination')")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    page.wait_for_selector("#job-status.status-done", timeout=300_000)


def web(data: Path) -> None:
    """Shoot the web app's main pages (see the module's docstring)."""
    import socket
    import subprocess
    import tempfile
    import threading
    import time

    import uvicorn

    from itsm_doctor.store import Store
    from itsm_doctor.web import WebSettings, create_app
    from itsm_doctor.web.security import hash_password

    sample = data / "servicenow-sample" / "incident_event_log.sample.csv.gz"
    if not sample.is_file():
        raise SystemExit(f"the ServiceNow sample is missing at {sample} (set ITSM_DOCTOR_DATA)")
    HERE.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        later, other = Path(tmp) / "later", Path(tmp) / "other"
        for folder, seed in ((later, "7"), (other, "11")):  # a later export of Globex IT; another patient
            subprocess.run(
                [sys.executable, "-m", "itsm_doctor", "simulate", str(folder), "--tickets", "1500", "--months", "2",
                 "--start", "2026-01-01", "--format", "servicenow", "--seed", seed, "-q"],
                check=True,
            )  # fmt: skip
        workspace = Path(tmp) / "site"
        store = Store.open(workspace=workspace)
        password = "screenshots password"
        store.create_user(email="ada@example.org", display_name="Ada Lovelace", password_hash=hash_password(password),
                          is_admin=True)  # fmt: skip
        app = create_app(WebSettings(workspace=workspace, secret_key="screenshots", job_workers=1), store=store)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=_chromium(), args=ARGS)
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()

                def shot(name: str, *, full: bool = False) -> None:
                    page.wait_for_load_state("load")
                    page.screenshot(path=str(HERE / f"web-{name}.png"), full_page=full)
                    print(f"web-{name}.png  {page.url.removeprefix(base)}")

                page.goto(base + "/login")
                page.fill("input[name=email]", "ada@example.org")
                shot("login")
                page.fill("input[name=password]", password)
                page.click("button:has-text('Sign in')")
                page.click("text=Create an organisation")
                page.fill("input[name=name]", "Acme Service Desk")
                page.fill("input[name=slug]", "acme")
                page.click("button:has-text('Create')")
                page.wait_for_url(base + "/o/acme")
                _examine(page, base, sample, "Globex IT")
                shot("examination")
                page.click("text=Open the visit")
                page.wait_for_url(re.compile(r".*/visits/[0-9a-f]+$"))
                shot("visit")
                first = page.locator("tr[id^=rx-]").first
                first.locator("input[name=owner]").fill("Service desk manager")
                first.locator("input[name=since]").fill("2020-01-01")
                first.locator("button:has-text('Adopt')").click()
                page.wait_for_load_state("load")
                _examine(page, base, later / "incident_event_log.csv", "globex-it")
                _examine(page, base, other / "incident_event_log.csv", "Initech IT")
                page.goto(f"{base}/o/acme")
                shot("organisation")
                page.goto(f"{base}/o/acme/visits")
                shot("visits")
                page.goto(f"{base}/o/acme/patients/globex-it")
                shot("patient")
                page.goto(f"{base}/o/acme/patients/globex-it/register")
                shot("register")
                page.goto(f"{base}/o/acme/patients/globex-it/followup")
                shot("followup")
                links = []
                for respondent, role in (("Cy", "agent"), ("Di", "manager"), ("Ed", "team_lead")):
                    page.goto(f"{base}/o/acme/questionnaire")
                    page.fill("input[name=respondent]", respondent)
                    page.select_option("select[name=role]", role)
                    page.click("button:has-text('Create the link')")
                    links.append(page.inner_text("p.link-once").strip())
                respondent = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                for n, link in enumerate(links[:2]):
                    respondent.goto(link if link.startswith("http") else base + link)
                    for box in respondent.locator("fieldset.question").all()[: 40 if n == 0 else 12]:
                        choice = box.locator("input[value=yes]")
                        (choice if choice.count() else box.locator("input[value='4']")).check()
                    if n == 1:
                        respondent.screenshot(path=str(HERE / "web-questionnaire-answer.png"))
                        print("web-questionnaire-answer.png")
                    respondent.click(f"button[value={'submit' if n == 0 else 'save'}]")
                page.goto(f"{base}/o/acme/questionnaire/patients/globex-it")
                shot("questionnaire", full=True)
                page.goto(base + "/portfolio")
                shot("portfolio")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(30)
            store.close()
    print(f"screenshots in {HERE}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--web"]:
        web(Path(os.environ.get("ITSM_DOCTOR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")))
    else:
        main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else Path(sys.argv[1]).stem)
