"""Organisations and members (one-time set-password links), and the register: adopt from a
visit, change a status, download it as CSV with formula-safe cells."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text, update

from itsm_doctor.store.web_models import PasswordToken
from itsm_doctor.web.routes.patients import formula_safe

Web = Any  # the ``web`` fixture of conftest.py


def test_an_administrator_creates_an_organisation_and_owns_it_others_cannot(web: Web) -> None:
    web.user("root@example.org", admin=True)
    web.user("joe@example.org")
    admin = web.signed_in("root@example.org")
    r = admin.post("/organisations", data={"csrf_token": web.csrf(admin, "/organisations/new"), "name": "Acme Corp."})
    assert r.status_code == 303 and r.headers["location"] == "/o/acme-corp"
    assert "owner" in admin.get("/o/acme-corp").text
    taken = admin.post("/organisations", data={"csrf_token": web.csrf(admin, "/"), "name": "ACME corp"})
    assert taken.status_code == 400 and "is taken" in taken.text
    joe = web.signed_in("joe@example.org")
    assert joe.get("/organisations/new").status_code == 404
    assert joe.post("/organisations", data={"csrf_token": web.csrf(joe, "/"), "name": "Mine"}).status_code == 404


def test_an_owner_invites_a_new_member_who_sets_a_password_once(web: Web) -> None:
    ada = web.user("ada@example.org")
    web.organisation("acme", members={ada: "owner"})
    c = web.signed_in("ada@example.org")
    page = c.post(
        "/o/acme/members",
        data={
            "csrf_token": web.csrf(c, "/o/acme/members"),
            "email": "Max@Example.org",
            "name": "Max",
            "role": "member",
        },
    )
    assert page.status_code == 200
    link = re.search(r'value="(http://testserver/set-password/[^"]+)"', page.text)
    assert link, page.text
    path = link.group(1).removeprefix("http://testserver")
    with web.store.engine.connect() as conn:  # the store keeps the link's digest, not the link
        assert path.rsplit("/", 1)[1] not in str(conn.execute(text("SELECT * FROM password_token")).all())
    max_ = web.client()
    assert "max@example.org" in max_.get(path).text
    short = max_.post(path, data={"csrf_token": web.csrf(max_, path), "password": "short", "confirm": "short"})
    assert short.status_code == 400
    done = max_.post(
        path, data={"csrf_token": web.csrf(max_, path), "password": "a long passphrase", "confirm": "a long passphrase"}
    )
    assert done.status_code == 303
    assert max_.get("/o/acme").status_code == 200  # signed in, a member now
    # the link is spent: a second use is refused
    again = web.client()
    assert again.get(path).status_code == 404
    reuse = again.post(path, data={"csrf_token": web.csrf(again, "/login"), "password": "x" * 12, "confirm": "x" * 12})
    assert reuse.status_code == 404
    fresh = web.client()
    web.login(fresh, "max@example.org", "a long passphrase")


def test_an_expired_link_is_refused(web: Web) -> None:
    ada = web.user("ada@example.org")
    web.organisation("acme", members={ada: "owner"})
    c = web.signed_in("ada@example.org")
    page = c.post(
        "/o/acme/members",
        data={"csrf_token": web.csrf(c, "/o/acme/members"), "email": "late@example.org", "role": "member"},
    )
    path = re.search(r'value="http://testserver(/set-password/[^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    with web.store.session() as s:
        s.execute(update(PasswordToken).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    late = web.client()
    assert late.get(path).status_code == 404
    r = late.post(path, data={"csrf_token": web.csrf(late, "/login"), "password": "x" * 12, "confirm": "x" * 12})
    assert r.status_code == 404


def test_an_existing_account_is_added_with_its_role_and_only_owners_manage_members(web: Web) -> None:
    ada, bob = web.user("ada@example.org"), web.user("bob@example.org")
    web.organisation("acme", members={ada: "owner"})
    c = web.signed_in("ada@example.org")
    page = c.post(
        "/o/acme/members",
        data={"csrf_token": web.csrf(c, "/o/acme/members"), "email": "bob@example.org", "role": "member"},
    )
    assert page.status_code == 200 and "set-password" not in page.text  # bob has a password: no link
    assert re.search(r"<td>bob@example.org</td><td>member</td>", page.text)
    b = web.signed_in("bob@example.org")
    assert b.get("/o/acme").status_code == 200
    assert b.get("/o/acme/members").status_code == 404  # a member does not manage members
    _ = bob


def test_formula_cells_are_quoted() -> None:
    cases = {"=1+2": "'=1+2", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx"}
    for raw, safe in cases.items():
        assert formula_safe(raw) == safe
    assert formula_safe("desk lead") == "desk lead"
    assert formula_safe(None) == ""
    assert formula_safe(3) == "3"


def test_adopt_a_prescription_change_its_status_and_download_the_register(web: Web) -> None:
    ada = web.user("ada@example.org")
    ids = web.tenant("acme", ada)  # its register holds entry 1 already (abandon it first)
    c = web.signed_in("ada@example.org")
    token = web.csrf(c, "/")
    r = c.post(
        "/o/acme/patients/acme-it/register/1/status",
        data={"csrf_token": token, "status": "abandoned", "on": "2026-01-20"},
    )
    assert r.status_code == 303
    visit = f"/o/acme/visits/{ids['{visit_id}']}"
    assert 'name="prescription" value="swarming"' in c.get(visit).text  # abandoned: may be adopted again
    r = c.post(
        f"{visit}/adopt",
        data={"csrf_token": token, "prescription": "swarming", "owner": '=HYPERLINK("x")', "since": "2026-02-01"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/o/acme/patients/acme-it/register#entry-2"
    assert "in the register" in c.get(visit).text
    unknown = c.post(
        f"{visit}/adopt", data={"csrf_token": token, "prescription": "nope", "owner": "x", "since": "2026-02-01"}
    )
    assert unknown.status_code == 404
    r = c.post(
        "/o/acme/patients/acme-it/register/2/status",
        data={"csrf_token": token, "status": "in_progress", "on": "2026-02-03"},
    )
    assert r.status_code == 303
    bad = c.post(
        "/o/acme/patients/acme-it/register/2/status", data={"csrf_token": token, "status": "won", "on": "2026-02-03"}
    )
    assert bad.status_code == 422
    download = c.get("/o/acme/patients/acme-it/register.csv")
    assert download.headers["content-disposition"] == 'attachment; filename="acme-it-register.csv"'
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["entry"], r["status"], r["started_on"], r["completed_on"]) for r in rows] == [
        ("1", "abandoned", "", "2026-01-20"),
        ("2", "in_progress", "2026-02-03", ""),
    ]
    assert rows[1]["owner"] == '\'=HYPERLINK("x")'
    assert rows[1]["target_signs"] == "incident.ping_pong_rate:down"
