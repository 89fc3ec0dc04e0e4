"""The questionnaire in a real browser (Debian's Chromium through Playwright), against the
app served by uvicorn on the loopback: the owner invites two respondents, each answers from
their own browser (one stops and resumes), the owner sees both submitted; no request leaves
the server's origin, and the CSP is never violated."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from itsm_doctor.store import Store
from itsm_doctor.web import WebSettings, create_app
from itsm_doctor.web.security import hash_password

CHROMIUM = os.environ.get("ITSM_DOCTOR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Chromium not installed (make installs Debian's chromium; or set ITSM_DOCTOR_CHROMIUM)",
)
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
PASSWORD = "correct horse battery staple"


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    store = Store.open(database=f"sqlite:///{tmp_path / 'web.db'}")
    ada = store.create_user(email="ada@example.org", display_name="Ada", password_hash=hash_password(PASSWORD))
    org = store.create_organisation(slug="acme", name="Acme")
    store.add_member(user_id=ada.id, organisation_id=org.id, role="owner")
    patient = store.patient_in(organisation_id=org.id, slug="acme-it", create=True)
    assert patient is not None
    signs = [
        {"id": "desk.first_contact_resolution", "value": 0.7, "status": "fair", "direction": "higher"},
        {"id": "desk.first_line_only_rate", "value": 0.6, "status": "fair", "direction": "higher"},
    ]
    store.record_visit(patient=patient, examination={"signs": signs}, fingerprints=[], at=datetime.now(UTC))
    settings = WebSettings(workspace=tmp_path / "ws", secret_key="test-secret", job_workers=0)
    app = create_app(settings, store=store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", store
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def _watch(page: Any, origin: str, problems: list[str]) -> None:
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text} at {m.location.get('url')}") if m.type == "error" else None
        ),
    )
    page.on("request", lambda r: None if r.url.startswith(origin) else problems.append(f"left the origin: {r.url}"))


def test_two_respondents_answer_in_their_own_browsers_and_the_owner_sees_them(
    served: tuple[str, Store], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    origin, store = served
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        owner = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        _watch(owner, origin, problems)
        owner.goto(f"{origin}/login")
        owner.fill("input[name=email]", "ada@example.org")
        owner.fill("input[name=password]", PASSWORD)
        owner.click("button[type=submit]")
        owner.wait_for_url(f"{origin}/")
        owner.click("text=Acme")
        owner.click("nav >> text=Questionnaire")
        links = {}
        for name, role in (("Ana", "agent"), ("Mia", "manager")):
            owner.goto(f"{origin}/o/acme/questionnaire")
            owner.fill("input[name=respondent]", name)
            owner.select_option("select[name=role]", role)
            owner.click("text=Create the link")
            links[name] = owner.inner_text(".link-once").strip()
            assert links[name].startswith(f"{origin}/q/")

        ana = browser.new_context().new_page()
        _watch(ana, origin, problems)
        ana.goto(links["Ana"])
        ana.check("input[name=desk-l1-contacts-are-answered][value=yes]")
        ana.check("input[name=desk-l2-every-contact-logged][value=yes]")
        ana.check("input[name=we-never-catch-up][value='4']")
        ana.click("text=Save and continue later")
        # the click submits the form: the page answering it is awaited (expect retries) before it
        # is read or captured — a screenshot in mid-navigation fails ("Unable to capture screenshot")
        expect(ana.locator("main")).to_contain_text("Saved.")
        ana.screenshot(path=str(tmp_path / "questionnaire-respondent.png"))
        # Ana comes back later on another device: the same link resumes her answers
        later = browser.new_context().new_page()
        _watch(later, origin, problems)
        later.goto(links["Ana"])
        assert later.is_checked("input[name=desk-l2-every-contact-logged][value=yes]")
        assert later.is_checked("input[name=we-never-catch-up][value='4']")
        later.check("input[name=desk-l2-named-desk-lead][value=yes]")
        later.click("text=Submit my answers")
        expect(later.locator("h1")).to_contain_text("Thank you, Ana")

        mia = browser.new_context().new_page()
        _watch(mia, origin, problems)
        mia.goto(links["Mia"])
        mia.check("input[name=desk-l1-contacts-are-answered][value=yes]")
        mia.check("input[name=desk-l2-every-contact-logged][value=no]")
        mia.click("text=Submit my answers")
        expect(mia.locator("h1")).to_contain_text("Thank you, Mia")
        # the used link shows a page saying so, and no form
        response = mia.goto(links["Mia"])
        assert response is not None and response.status == 410
        assert mia.locator("form[action^='/q/']").count() == 0

        owner.goto(f"{origin}/o/acme/questionnaire/patients/acme-it")
        body = owner.inner_text("main")
        assert "Service-desk or support agent\t1\t1\t1\t0" in body
        assert "IT manager\t1\t1\t1\t0" in body
        owner.screenshot(path=str(tmp_path / "questionnaire-owner.png"), full_page=True)
        owner.goto(f"{origin}/portfolio")
        assert "1 patient(s) in 1 organisation(s)." in owner.inner_text("main")
        owner.screenshot(path=str(tmp_path / "portfolio.png"), full_page=True)
        browser.close()
    # the browser asks for /favicon.ico on its own (the app has none: a 404), and the used link
    # is a 410 on purpose; anything else is a problem
    assert [p for p in problems if "/favicon.ico" not in p and "status of 410" not in p] == []
    answers = {
        (a.respondent, a.role): a.answers for a in store.answers(patient=store.patients_in(organisation_id=1)[0])
    }
    assert answers == {
        ("Ana", "agent"): {
            "desk-l1-contacts-are-answered": True,
            "desk-l2-every-contact-logged": True,
            "desk-l2-named-desk-lead": True,
            "we-never-catch-up": 4,
        },
        ("Mia", "manager"): {"desk-l1-contacts-are-answered": True, "desk-l2-every-contact-logged": False},
    }
