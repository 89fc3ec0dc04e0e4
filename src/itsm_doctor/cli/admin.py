"""``itsm-doctor admin``: accounts from the command line — the first administrator first."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from itsm_doctor.cli._common import fail, out, user_errors
from itsm_doctor.cli._patient import DatabaseOpt

__all__ = ["admin_app"]

MIN_PASSWORD = 10

admin_app = typer.Typer(
    help="Accounts of the web app: create an administrator (the first one before `itsm-doctor serve`).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@admin_app.callback()
def _group() -> None:
    """Accounts of the web app."""


def _password(*, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise fail(f"the password needs at least {MIN_PASSWORD} characters")
    return password


@admin_app.command("create")
def create(
    email: Annotated[str, typer.Option(help="The administrator's e-mail (the sign-in name).")],
    name: Annotated[str | None, typer.Option(help="Name shown in the pages (default: the e-mail).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin (scripts).")
    ] = False,
    workspace: Annotated[Path, typer.Option(help="Folder of the web app's store.")] = Path("itsm-doctor-workspace"),
    database: DatabaseOpt = None,
    debug: Annotated[bool, typer.Option("--debug", help="On an error, show the traceback too.")] = False,
) -> None:
    """Create an administrator: may create organisations, and owns the ones it creates."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise fail(f"--email {email!r}: not an e-mail address")
    password = _password(from_stdin=password_stdin)
    with user_errors(debug=debug):
        from itsm_doctor.store import Store
        from itsm_doctor.web.security import hash_password

        store = Store.open(workspace=workspace, database=database)
        try:
            store.create_user(
                email=email, display_name=name or email, password_hash=hash_password(password), is_admin=True
            )
        finally:
            store.close()
    out.print(f"Administrator {email} created.", highlight=False)
