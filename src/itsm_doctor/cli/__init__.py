"""The ``itsm-doctor`` command line.

Exit codes scripts can trust: 0 done; 1 the work ran but intake quarantined more than
``--max-quarantine`` of the rows; 2 usage error or unreadable input (the message names
file, row and column).

Each command lives in its own module; the registry below is the one place they are named.
A command's module is imported only when that command runs (or shows its own help), so
``itsm-doctor --help`` starts without Ibis, DuckDB, SQLAlchemy, Alembic or SciPy.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer import _click as click
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from itsm_doctor import __version__

__all__ = ["COMMANDS", "CONTEXT", "LazyGroup", "app"]

CONTEXT: dict[str, Any] = {"help_option_names": ["-h", "--help"]}


@dataclass(frozen=True, kw_only=True)
class _Command:
    """One command: where its function (or sub-app) lives, and the line the top help shows."""

    module: str
    attribute: str
    summary: str
    help_attribute: str | None = None  # the module's long help text, when a function


# The command registry: one entry per command module, in the order `--help` lists them.
COMMANDS: dict[str, _Command] = {
    "intake": _Command(
        module="itsm_doctor.cli.intake",
        attribute="intake",
        help_attribute="INTAKE_HELP",
        summary="Read export files into a patient's records (Parquet in the workspace).",
    ),
    "examine": _Command(
        module="itsm_doctor.cli.examine",
        attribute="examine_command",
        help_attribute="EXAMINE_HELP",
        summary="Take in the exports, measure every sign, diagnose, prescribe; store a visit.",
    ),
    "assess": _Command(
        module="itsm_doctor.cli.assess",
        attribute="assess",
        help_attribute="ASSESS_HELP",
        summary="Ask the maturity questionnaire and the symptom statements in the terminal.",
    ),
    "register": _Command(
        module="itsm_doctor.cli.register",
        attribute="register_app",
        summary="The improvement register: adopt prescriptions, follow their status.",
    ),
    "batches": _Command(
        module="itsm_doctor.cli.batches",
        attribute="batches_app",
        summary="The batches of a workspace: every intake taken in; remove one, see its quarantine.",
    ),
    "followup": _Command(
        module="itsm_doctor.cli.followup",
        attribute="followup_command",
        help_attribute="FOLLOWUP_HELP",
        summary="Compare the visits; judge each adopted prescription (healing or not).",
    ),
    "catalog": _Command(
        module="itsm_doctor.cli.catalog",
        attribute="catalog",
        help_attribute="CATALOG_HELP",
        summary="Print a library with its definitions: signs, dysfunctions or questions.",
    ),
    "simulate": _Command(
        module="itsm_doctor.cli.simulate",
        attribute="simulate_command",
        help_attribute="SIMULATE_HELP",
        summary="Simulate an IT organisation's records with chosen dysfunctions.",
    ),
    "serve": _Command(
        module="itsm_doctor.cli.serve",
        attribute="serve",
        help_attribute="SERVE_HELP",
        summary="Serve the web app for a team: organisations, uploads, examinations, the patient's file.",
    ),
    "admin": _Command(
        module="itsm_doctor.cli.admin",
        attribute="admin_app",
        summary="Accounts of the web app: create the first administrator.",
    ),
    "demo": _Command(
        module="itsm_doctor.cli.demo",
        attribute="demo",
        help_attribute="DEMO_HELP",
        summary="Simulate a patient, examine it twice around a remedy, write the report.",
    ),
}

# How option types read in help: words, not Python annotations such as <list[Path]>.
_TYPE_WORDS = {
    "<path>": "PATH",
    "<file>": "FILE",
    "<directory>": "DIR",
    "<str>": "TEXT",
    "<int>": "INTEGER",
    "<float>": "NUMBER",
    "<list[Path]>": "PATH...",
    "<list[path]>": "PATH...",
    "<list[str]>": "TEXT...",
}


def _readable_types(command: click.Command, ctx: click.Context) -> None:
    """Give every option a metavar people read (``PATH``, ``TEXT``); flags show none."""
    for param in command.get_params(ctx):
        if not isinstance(param, TyperOption | TyperArgument):
            continue
        if param.metavar is not None:  # a metavar given (DATE, STATUS) is the word to show
            if isinstance(param, TyperArgument):
                setattr(param, "display_type_rich", lambda ctx, word=param.metavar: word)  # noqa: B010
            continue
        if isinstance(param, TyperOption) and (param.is_flag or param.is_bool_flag):
            param.metavar = ""
            continue
        shown = param.display_type(ctx)
        word = _TYPE_WORDS.get(shown)
        if word is None and shown.startswith("<") and "|" in shown:
            word = " | ".join(shown.strip("<>").replace("list[", "").rstrip("]").split("|"))  # choices
        if word is None:
            word = shown.strip("<>").upper()
        if isinstance(param, TyperArgument):
            # an argument's metavar is its usage name too; only its type column changes
            setattr(param, "display_type_rich", lambda ctx, word=word: word)  # noqa: B010
            continue
        param.metavar = word
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _readable_types(sub, ctx)


class LazyGroup(TyperGroup):
    """The top group: lists the registry's commands without importing them; imports a
    command's module only when the command itself is resolved."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *(n for n in self.commands if n not in COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return super().get_command(ctx, cmd_name)
        if self._listing:  # the top help needs a name and a line, not the command's imports
            return TyperCommand(name=cmd_name, help=spec.summary, short_help=spec.summary)
        if cmd_name not in self.commands:
            self.commands[cmd_name] = _load(cmd_name, spec, ctx)
        return self.commands[cmd_name]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        _readable_types(self, ctx)
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def _paragraphs(text: str) -> str:
    """A help text whose paragraphs rewrap to the terminal: the source's line breaks inside a
    paragraph become spaces (Rich would keep them and leave ragged lines at 80 columns)."""
    blocks = [" ".join(line.strip() for line in block.splitlines()) for block in text.strip().split("\n\n")]
    return "\n\n".join(blocks)


def _load(name: str, spec: _Command, ctx: click.Context) -> click.Command:
    module = importlib.import_module(spec.module)
    target = getattr(module, spec.attribute)
    if isinstance(target, typer.Typer):
        command = typer.main.get_command(target)
    else:
        one = typer.Typer(context_settings=CONTEXT, rich_markup_mode="rich", add_completion=False)
        help_text = _paragraphs(getattr(module, spec.help_attribute)) if spec.help_attribute else None
        one.command(name=name, help=help_text)(target)
        command = typer.main.get_command(one)
    command.name = name
    _readable_types(command, ctx)
    return command


app = typer.Typer(
    name="itsm-doctor",
    cls=LazyGroup,
    help="Examine an IT service provider's records like a physician: intake, signs, diagnosis, prescriptions.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings=CONTEXT,
)


def _version(value: bool) -> None:
    if value:
        print(f"itsm-doctor {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """ITSM Doctor."""
