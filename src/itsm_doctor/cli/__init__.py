"""The ``itsm-doctor`` command line.

Exit codes scripts can trust: 0 done; 1 the work ran but intake quarantined more than
``--max-quarantine`` of the rows; 2 usage error or unreadable input (the message names
file, row and column).

Each command lives in its own module; the registry below is the one place they are named.
"""

from __future__ import annotations

from typing import Annotated

import typer

from itsm_doctor import __version__
from itsm_doctor.cli import assess as _assess
from itsm_doctor.cli import batches as _batches
from itsm_doctor.cli import catalog as _catalog
from itsm_doctor.cli import demo as _demo
from itsm_doctor.cli import examine as _examine
from itsm_doctor.cli import followup as _followup
from itsm_doctor.cli import intake as _intake
from itsm_doctor.cli import register as _register
from itsm_doctor.cli import simulate as _simulate
from itsm_doctor.cli._common import out

__all__ = ["app"]

app = typer.Typer(
    name="itsm-doctor",
    help="Examine an IT service provider's records like a physician: intake, signs, diagnosis, prescriptions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        out.print(f"itsm-doctor {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """ITSM Doctor."""


# The command registry: one line per command module.
app.command(name="intake", help=_intake.INTAKE_HELP)(_intake.intake)
app.command(name="examine", help=_examine.EXAMINE_HELP)(_examine.examine_command)
app.command(name="catalog", help=_catalog.CATALOG_HELP)(_catalog.catalog)
app.command(name="assess", help=_assess.ASSESS_HELP)(_assess.assess)
app.add_typer(_register.register_app, name="register")
app.add_typer(_batches.batches_app, name="batches")
app.command(name="followup", help=_followup.FOLLOWUP_HELP)(_followup.followup_command)
app.command(name="simulate", help=_simulate.SIMULATE_HELP)(_simulate.simulate_command)
app.command(name="demo", help=_demo.DEMO_HELP)(_demo.demo)
