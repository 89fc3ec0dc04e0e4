"""Web tests: FastAPI's TestClient on the real app, on SQLite and on the PostgreSQL server of
this machine (127.0.0.1:5432, a fresh database per test, dropped after).

``web`` gives the app, its store and helpers: ``web.user(email, password)`` makes an account,
``web.organisation(slug, owner=…, members={user: role})`` an organisation with memberships,
``web.client()`` a new browser, ``web.login(client, email, password)`` signs it in, and
``web.csrf(client, page)`` reads the CSRF token a page's forms carry, and
``web.tenant(slug, owner)`` makes an organisation holding one of each (patient, visit of the
small ``EXAMINATION``, upload, failed job, register entry) and returns their ids by route
parameter.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from itsm_doctor.store import Organisation, Store, UserAccount
from itsm_doctor.web import WebSettings, create_app
from itsm_doctor.web.security import digest, hash_password

PASSWORD = "correct horse battery staple"


EXAMINATION: dict[str, Any] = {
    "schema": "itsm-doctor/examination/1",
    "patient": "p",
    "visit": {"id": "", "at": "2026-01-01T00:00:00Z", "period": {"from": "2025-10-01", "to": "2025-12-31"}},
    "intake": [
        {
            "file": "<script>alert(1)</script>.csv",
            "source": "servicenow",
            "rows_read": 3,
            "rows_accepted": 2,
            "rows_quarantined": 1,
            "reasons": {"unknown_status": 1},
        }
    ],
    "signs": [
        {
            "id": "incident.ping_pong_rate",
            "name": "Ping-pong rate",
            "area": "quality",
            "practice": "incident",
            "value": 0.3,
            "unit": "ratio",
            "direction": "lower",
            "benchmark": {"good": 0.05, "poor": 0.15, "source": "x"},
            "status": "poor",
            "breakdowns": {"group": {"<script>alert(1)</script>": 0.5}},
        }
    ],
    "diagnoses": [
        {
            "id": "assignment-ping-pong",
            "name": "Assignment ping-pong",
            "verdict": "present",
            "likelihood": 0.8,
            "evidence": [{"kind": "sign", "id": "incident.ping_pong_rate", "value": 0.3, "supports": True}],
            "causes": [],
        }
    ],
    "prescriptions": [
        {
            "id": "swarming",
            "dysfunction": "assignment-ping-pong",
            "cause": None,
            "title": "Swarm",
            "practice": "incident",
            "sphere": "team",
            "effort": "low",
            "moves": ["incident.ping_pong_rate"],
            "follow_up_days": 30,
        }
    ],
}


@dataclass
class Web:
    store: Store
    settings: WebSettings
    app: FastAPI
    password: str = PASSWORD
    clients: list[TestClient] = field(default_factory=list)

    @staticmethod
    def csrf(client: TestClient, page: str) -> str:
        """The CSRF token in the forms of ``page`` (as a browser would read it)."""
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
        assert found, f"no CSRF token in {page}"
        return found.group(1)

    def client(self) -> TestClient:
        c = TestClient(self.app, follow_redirects=False)
        c.__enter__()
        self.clients.append(c)
        return c

    def user(self, email: str, *, password: str = PASSWORD, admin: bool = False, name: str = "") -> UserAccount:
        return self.store.create_user(
            email=email, display_name=name or email, password_hash=hash_password(password), is_admin=admin
        )

    def organisation(self, slug: str, *, name: str = "", members: dict[UserAccount, str] | None = None) -> Organisation:
        org = self.store.create_organisation(slug=slug, name=name or slug.title())
        for user, role in (members or {}).items():
            self.store.add_member(user_id=user.id, organisation_id=org.id, role=role)
        return org

    def login(self, client: TestClient, email: str, password: str = PASSWORD) -> None:
        token = self.csrf(client, "/login")
        r = client.post("/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"})
        assert r.status_code == 303, r.text
        assert r.headers["location"] == "/"

    def signed_in(self, email: str) -> TestClient:
        c = self.client()
        self.login(c, email)
        return c

    def tenant(self, slug: str, owner: UserAccount) -> dict[str, str]:
        """An organisation with one of each: patient, visit, upload, job, register entry; its ids."""
        org = self.organisation(slug, members={owner: "owner"})
        patient = self.store.patient_in(organisation_id=org.id, slug=f"{slug}-it", create=True)
        visit_id = f"visit-{slug}"
        exam = {**EXAMINATION, "visit": {**EXAMINATION["visit"], "id": visit_id}}
        self.store.record_visit(patient=patient, examination=exam, fingerprints=[], visit_id=visit_id)
        folder = self.settings.files / "uploads" / str(org.id) / slug
        folder.mkdir(parents=True)
        (folder / "a.csv").write_text("number,incident_state\nINC1,New\n", encoding="utf-8")
        upload = self.store.create_upload(
            organisation_id=org.id,
            filename="a.csv",
            stored_path=str((folder / "a.csv").relative_to(self.settings.files)),
            size=31,
            kind="csv",
            sha256="0" * 64,
            source="servicenow",
            uploaded_by=owner.id,
        )
        job = self.store.create_job(
            organisation_id=org.id, kind="examine", params={"upload_ids": [upload.id], "source": "servicenow"}
        )
        self.store.fail_job(job_id=job.id, error="for the test")
        entry = self.store.adopt(
            patient=patient,
            prescription_id="swarming",
            dysfunction_id="assignment-ping-pong",
            title="Swarm",
            owner="desk lead",
            sphere="team",
            target_signs=[],
            adopted_on=date(2026, 1, 2),
            visit_id=visit_id,
        )
        invitation = self.store.create_invitation(
            organisation_id=org.id,
            patient_id=patient.id,
            respondent=f"respondent of {slug}",
            role="agent",
            token_hash=digest(f"token of {slug}"),
            expires_at=datetime.now(UTC) + timedelta(days=14),
            created_by=owner.id,
        )
        return {
            "{org_slug}": slug,
            "{patient_slug}": patient.slug,
            "{invitation_id}": str(invitation.id),
            "{visit_id}": visit_id,
            "{job_id}": str(job.id),
            "{entry_id}": str(entry.id),
            "?upload": str(upload.id),
        }


@pytest.fixture()
def web(database: str, tmp_path: Path) -> Iterator[Web]:
    settings = WebSettings(
        workspace=tmp_path / "ws",
        database=database,
        secret_key="test-secret",
        job_workers=0,
        max_upload_bytes=64 * 1024,
    )
    store = Store.open(database=database)
    app = create_app(settings, store=store)
    w = Web(store=store, settings=settings, app=app)
    try:
        yield w
    finally:
        for c in w.clients:
            c.__exit__(None, None, None)
        store.close()


# --- A real server and a real browser (the journey and browser tests) -----------------------

CHROMIUM = os.environ.get("ITSM_DOCTOR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveSite:
    """``itsm-doctor serve`` as a person runs it: uvicorn on a loopback port, job workers on,
    the store in a temporary workspace whose first administrator the CLI created."""

    url: str
    workspace: Path
    settings: WebSettings
    store: Store
    admin_email: str
    password: str = PASSWORD


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``itsm-doctor ARGS`` in a child process (this checkout's sources first), checked."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "CI": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "itsm_doctor", *args], input=stdin, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, f"itsm-doctor {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


@pytest.fixture()
def live(tmp_path: Path) -> Iterator[LiveSite]:
    """A real server on 127.0.0.1 (one job worker), its first administrator made by
    ``itsm-doctor admin create --password-stdin``; stopped (and its workers joined) after."""
    import uvicorn

    workspace = tmp_path / "site"
    admin = "admin@example.org"
    made = run_cli(
        "admin",
        "create",
        "--email",
        admin,
        "--name",
        "Ada Admin",
        "--password-stdin",
        "--workspace",
        str(workspace),
        stdin=PASSWORD + "\n",
    )
    assert f"Administrator {admin} created." in made.stdout
    settings = WebSettings(workspace=workspace, secret_key="journey-secret", job_workers=1)
    store = Store.open(workspace=workspace)
    app = create_app(settings, store=store)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="itsm-doctor-live", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield LiveSite(
            url=f"http://127.0.0.1:{port}", workspace=workspace, settings=settings, store=store, admin_email=admin
        )
    finally:
        server.should_exit = True
        thread.join(30)
        store.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no browser download); skips, saying why, without it.
    One per module: Playwright's sync API allows one instance at a time in a thread, and other
    modules (test_questionnaire_in_chromium.py) start their own."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium: see the Makefile's system-deps target")
        pytest.skip("Chromium not installed (make installs Debian's chromium; or set ITSM_DOCTOR_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
