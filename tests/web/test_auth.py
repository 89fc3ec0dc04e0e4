"""Sign-in, sign-out, throttling, CSRF, security headers, passwords never in clear."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from itsm_doctor.web.app import route_table
from itsm_doctor.web.deps import SAFE_METHODS
from itsm_doctor.web.settings import SECRET_ENV, load_secret_key

Web = Any  # the ``web`` fixture of conftest.py
PASSWORD = "correct horse battery staple"


def test_a_page_needs_a_sign_in_and_the_login_page_carries_the_security_headers(web: Web) -> None:
    c = web.client()
    r = c.get("/")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/"
    page = c.get("/login")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["cache-control"] == "no-store"
    # the stylesheet and the script ship in the package: no other origin is named anywhere
    assert "http" not in page.text.replace("http-equiv", "")
    assert c.get("/static/app.css").status_code == 200
    assert c.get("/static/app.js").status_code == 200


def test_login_sets_a_server_session_and_logout_ends_it(web: Web) -> None:
    ada = web.user("ada@example.org", name="Ada")
    web.organisation("acme", name="Acme", members={ada: "owner"})
    c = web.client()
    web.login(c, "ADA@example.org ")  # e-mails are matched whatever the case and spaces
    cookie = c.cookies.get("itsm_doctor_session")
    assert cookie
    set_cookie = [h for h in c.get("/login").headers.get_list("set-cookie")]  # already signed in: no new cookie
    assert set_cookie == []
    home = c.get("/")
    assert home.status_code == 200
    assert '<a href="/o/acme">Acme</a>' in home.text
    # the store holds the token's digest only
    with web.store.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM login_session")).scalars().all()
    assert len(stored) == 1
    assert stored[0] != cookie
    assert len(stored[0]) == 64
    r = c.post("/logout", data={"csrf_token": web.csrf(c, "/")})
    assert r.status_code == 303
    with web.store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM login_session")).scalar_one() == 0
    # the old cookie replayed opens nothing
    replay = web.client()
    replay.cookies.set("itsm_doctor_session", cookie)
    assert replay.get("/").status_code == 303


def test_wrong_password_is_refused_and_five_failures_throttle_the_account(web: Web) -> None:
    web.user("bob@example.org")
    c = web.client()
    for attempt in range(5):
        r = c.post(
            "/login",
            data={"email": "bob@example.org", "password": f"wrong-{attempt}", "csrf_token": web.csrf(c, "/login")},
        )
        assert r.status_code == 401
        assert "Wrong e-mail or password." in r.text
    # the sixth, even with the right password, waits: 15 minutes from the first failure
    r = c.post("/login", data={"email": "bob@example.org", "password": PASSWORD, "csrf_token": web.csrf(c, "/login")})
    assert r.status_code == 429
    assert 890 <= int(r.headers["retry-after"]) <= 900
    assert "Try again in 15 minutes." in r.text
    assert "itsm_doctor_session" not in c.cookies
    # another account from the same address is not throttled by bob's failures (limit per address: 20)
    web.user("carol@example.org")
    web.login(web.client(), "carol@example.org")


def test_an_unknown_account_gets_the_same_answer_as_a_wrong_password(web: Web) -> None:
    c = web.client()
    r = c.post(
        "/login", data={"email": "nobody@example.org", "password": "x" * 12, "csrf_token": web.csrf(c, "/login")}
    )
    assert r.status_code == 401
    assert "Wrong e-mail or password." in r.text


def test_forms_without_a_valid_csrf_token_are_refused_with_403(web: Web) -> None:
    ada = web.user("ada@example.org")
    web.organisation("acme", members={ada: "owner"})
    c = web.client()
    # before signing in: the login form itself
    r = c.post("/login", data={"email": "ada@example.org", "password": PASSWORD})
    assert r.status_code == 403
    r = c.post("/login", data={"email": "ada@example.org", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403
    web.login(c, "ada@example.org")
    # signed in: logout without the session's token, or with the pre-login token, is refused
    assert c.post("/logout").status_code == 403
    assert c.post("/logout", data={"csrf_token": c.cookies.get("itsm_doctor_csrf")}).status_code == 403
    assert c.get("/").status_code == 200  # still signed in
    assert c.post("/logout", headers={"X-CSRF-Token": web.csrf(c, "/")}).status_code == 303


def test_every_state_changing_route_is_behind_the_csrf_check(web: Web) -> None:
    """Walks the app's routes: a POST without a token never reaches a handler (403)."""
    user = web.user("ada@example.org")
    web.organisation("acme", members={user: "owner"})
    c = web.signed_in("ada@example.org")
    posts = []
    for template, methods in route_table(web.app.routes):
        if not methods - SAFE_METHODS:
            continue
        path = template.replace("{org_slug}", "acme")
        path = path.replace("{token}", "x").replace("{visit_id}", "x").replace("{patient_slug}", "x")
        for name in ("{upload_id}", "{job_id}", "{entry_id}"):
            path = path.replace(name, "1")
        posts.append(path)
        assert c.post(path, data={"anything": "1"}).status_code == 403, path
    assert "/logout" in posts and "/login" in posts


def test_passwords_are_never_stored_or_logged_in_clear(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    web.user("ada@example.org")
    c = web.client()
    r = c.post(
        "/login", data={"email": "ada@example.org", "password": "typo " + PASSWORD, "csrf_token": web.csrf(c, "/login")}
    )
    assert r.status_code == 401
    web.login(c, "ada@example.org")
    with web.store.engine.connect() as conn:
        hashed = conn.execute(text("SELECT password_hash FROM user_account")).scalar_one()
        dump = " ".join(
            str(row)
            for table in ("user_account", "login_session", "login_attempt")
            for row in conn.execute(text(f"SELECT * FROM {table}")).all()
        )
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in dump
    assert "typo" not in dump
    assert PASSWORD not in caplog.text
    assert "typo" not in caplog.text


def test_the_secret_key_is_made_once_and_readable_by_its_owner_only(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    first = load_secret_key(tmp_path)
    assert len(first) >= 64
    assert stat.S_IMODE((tmp_path / "web-secret-key").stat().st_mode) == 0o600
    assert load_secret_key(tmp_path) == first  # the next start reads the same key
    monkeypatch.setenv(SECRET_ENV, "from-the-environment")
    assert load_secret_key(tmp_path) == "from-the-environment"


def test_twenty_failures_from_one_address_throttle_every_account_from_it(web: Web) -> None:
    web.user("dan@example.org")
    c = web.client()
    for n in range(20):  # twenty different (unknown) accounts, one address: the TestClient's
        r = c.post(
            "/login", data={"email": f"guess{n}@example.org", "password": "x" * 12, "csrf_token": web.csrf(c, "/login")}
        )
        assert r.status_code == 401
    r = c.post("/login", data={"email": "dan@example.org", "password": PASSWORD, "csrf_token": web.csrf(c, "/login")})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
