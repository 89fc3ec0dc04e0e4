"""``itsm-doctor intake``: exports into canonical records.

Exit codes scripts can trust: 0 done; 1 the work ran but intake quarantined more than
``--max-quarantine`` of the rows; 2 usage error or unreadable input (the message names
file, row and column).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from itsm_doctor.cli._common import (
    EXIT_INTAKE,
    check_output_file,
    err,
    fail,
    out,
    parse_share,
    progress_display,
    user_errors,
)
from itsm_doctor.intake.run import IntakeResult, run_intake
from itsm_doctor.intake.workspace import check_writable
from itsm_doctor.sources import SOURCE_NAMES
from itsm_doctor.sources.base import SourceOptions

__all__ = ["intake", "print_intake"]

INTAKE_HELP = f"""Read export files into a patient's canonical records (Parquet in the workspace).

PATH is a file or a folder (every file in it that the source recognises). Sources:
{", ".join(SOURCE_NAMES)}.

Every row is either accepted or quarantined with a reason (unparseable_time, missing_key,
unknown_status, exact_duplicate, duplicate_key, event_before_creation, malformed_line, …);
the report gives, per file, rows read = accepted + quarantined, and names each quarantined
row by its line in the file. Quarantined rows are kept in WORKSPACE/quarantine/
(`itsm-doctor batches quarantine` writes them as CSV). Taking in the same files twice changes
nothing; a ticket already taken in from another export is kept once, in its latest version.
A batch becomes visible whole or not at all (`itsm-doctor batches list|remove`).

An unknown CSV export: use --source csv with --mapping FILE, a YAML file naming which
column holds which canonical field and how its statuses map (every key in docs/mapping.md,
the fields in docs/records.md; presets: --source glpi | itop | znuny | zammad).

Exit code: 0 done; 1 more than --max-quarantine of the rows were quarantined; 2 unreadable
input or usage error.
"""


def print_intake(result: IntakeResult, *, console: Console = out) -> None:
    """The intake report as people read it."""
    title = f"Intake ({result.source}, batch {result.batch})" + (" — already taken in" if result.reused else "")
    table = Table(title=title, title_justify="left")
    for col in ("file", "rows read", "accepted", "quarantined", "reasons"):
        table.add_column(col, justify="right" if col not in ("file", "reasons") else "left")
    for f in result.files:
        reasons = ", ".join(f"{k} {v:,}" for k, v in f.reasons.items()) or "—"
        table.add_row(
            Path(f.file).name,
            f"{f.rows_read:,}",
            f"{f.rows_accepted:,}",
            f"{f.rows_quarantined:,}",
            reasons,
        )
    console.print(table)
    for note in result.notes:  # what the reader assumed: shown where the results are read
        console.print(f"  [dim]assumed:[/dim] {escape(note)}", markup=True, highlight=False, soft_wrap=True)
    for f in result.files:
        for note in f.notes:
            console.print(f"  [dim]{escape(Path(f.file).name)}:[/dim] {escape(note)}", markup=True, highlight=False)
        for ex in f.examples[:5]:
            where = f"row {ex['row']}" + (f", column {ex['column']!r}" if ex.get("column") else "")
            # the data's own text is escaped: a cell holding "[/]" is not markup
            console.print(
                f"  [yellow]quarantined[/yellow] {escape(Path(f.file).name)} {escape(where)}: "
                f"{escape(str(ex['reason']))} — {escape(str(ex.get('detail') or ''))}",
                markup=True,
                highlight=False,
                soft_wrap=True,
            )
    rec = Table(title="Records", title_justify="left")
    rec.add_column("table")
    rec.add_column("rows", justify="right")
    for name, n in result.records.items():
        if n:
            rec.add_row(name, f"{n:,}")
    console.print(rec)
    console.print(f"Workspace: {result.workspace}", highlight=False)


def intake(
    paths: Annotated[list[Path], typer.Argument(help="Export files or folders.", show_default=False)],
    source: Annotated[str, typer.Option("--source", "-s", help=f"Source reader: {', '.join(SOURCE_NAMES)}.")],
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="YAML mapping: columns for --source csv (a preset's override); the site's fields for --source jira;"
            " an activity_map of its lifecycle for --source xes."
        ),
    ] = None,
    workspace: Annotated[Path, typer.Option(help="The patient's workspace folder.")] = Path("itsm-doctor-workspace"),
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the intake report as JSON here.")] = None,
    max_quarantine: Annotated[
        str, typer.Option(help="Largest share of quarantined rows still accepted (0.01 or 1%); above it, exit 1.")
    ] = "1%",
    timezone: Annotated[
        str | None,
        typer.Option(help="Time zone of times written without an offset (e.g. Europe/Paris). Default: UTC, noted."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="On an error, show the traceback too.")] = False,
) -> None:
    limit = parse_share(max_quarantine)
    if source not in SOURCE_NAMES:
        raise fail(f"--source {source!r}: unknown source; choose one of {', '.join(SOURCE_NAMES)}")
    check_output_file(json_file, option="--json")
    with user_errors(debug=debug):
        check_writable(workspace)
        with progress_display(enabled=not quiet) as progress:
            task = progress.add_task("starting intake", total=None)
            result = run_intake(
                paths,
                source=source,
                workspace=workspace,
                options=SourceOptions(mapping=mapping, timezone=timezone),
                progress=lambda msg: progress.update(task, description=msg),
            )
        print_intake(result)
        if json_file is not None:
            json_file.write_text(json.dumps(result.as_json(), indent=2), encoding="utf-8")
    if result.quarantine_share > limit:
        err.print(
            f"intake quarantined {result.quarantine_share:.2%} of {result.rows_read:,} rows, "
            f"above the allowed {limit:.2%} (--max-quarantine)",
            highlight=False,
        )
        raise typer.Exit(EXIT_INTAKE)
