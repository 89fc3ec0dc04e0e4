"""``itsm-doctor admin create`` and ``serve``: the first administrator from the command line,
and a top-level help that does not import the web stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from itsm_doctor.cli import app

PASSWORD = "correct horse battery staple"


def test_admin_create_reads_the_password_from_stdin_and_stores_only_its_hash(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    runner = CliRunner()
    done = runner.invoke(
        app, ["admin", "create", "--email", "Root@Example.org", "--password-stdin", "--workspace", str(ws)],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "Administrator root@example.org created." in done.output
    engine = create_engine(f"sqlite:///{ws / 'itsm-doctor.db'}")
    with engine.connect() as conn:
        email, hashed, admin = conn.execute(text("SELECT email, password_hash, is_admin FROM user_account")).one()
    engine.dispose()
    assert (email, bool(admin)) == ("root@example.org", True)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert PASSWORD.encode() not in (ws / "itsm-doctor.db").read_bytes()
    again = runner.invoke(
        app, ["admin", "create", "--email", "root@example.org", "--password-stdin", "--workspace", str(ws)],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert again.exit_code == 2
    assert "exists already" in again.output
    short = runner.invoke(
        app, ["admin", "create", "--email", "b@example.org", "--password-stdin", "--workspace", str(ws)],
        input="short\n",
    )  # fmt: skip
    assert short.exit_code == 2 and "at least 10 characters" in short.output


def test_the_top_help_lists_serve_and_admin_without_importing_the_web_stack() -> None:
    script = (
        "import sys\n"
        "from itsm_doctor.cli import app\n"
        "try:\n"
        "    app(['--help'], standalone_mode=False)\n"
        "finally:\n"
        "    print('LOADED', sorted(m for m in ('fastapi', 'starlette', 'uvicorn', 'argon2') if m in sys.modules))\n"
    )
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert "LOADED []" in done.stdout
    assert " serve " in done.stdout and " admin " in done.stdout


def test_serve_refuses_a_bad_port_before_starting(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["serve", "--workspace", str(tmp_path), "--port", "70000"])
    assert done.exit_code == 2
    assert "--port 70000" in done.output
