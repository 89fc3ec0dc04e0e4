"""``itsm-doctor simulate``: a synthetic patient whose dysfunctions are known."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from itsm_doctor.cli._common import EXIT_USAGE, err, out, progress_display
from itsm_doctor.simulate import DYSFUNCTIONS, Scenario, Treatment, simulate
from itsm_doctor.simulate.export import FORMATS, write_jira, write_servicenow, write_servicenow_list, write_xes

__all__ = ["SIMULATE_HELP", "parse_dysfunctions", "simulate_command"]

SIMULATE_HELP = f"""Simulate an IT organisation's records with dysfunctions switched on, into OUT_DIR.

Writes canonical Parquet (one file per table; read it back with `--source canonical`) and
truth.json ({{"seed", "tickets", "dysfunctions": {{id: severity}}}}). The same seed gives
byte-identical files. Dysfunctions (severity 0 = healthy … 1 = worst):
{", ".join(DYSFUNCTIONS)}.

To simulate a prescription taking effect, lower a dysfunction from a date on:
`--dysfunction assignment-ping-pong=0.8 --treat assignment-ping-pong --from 2026-04-01`.
"""


def parse_dysfunctions(values: list[str]) -> dict[str, float]:
    """``ID`` or ``ID=SEVERITY`` (default 0.7) → {id: severity}."""
    out_: dict[str, float] = {}
    for value in values:
        name, _eq, sev = value.partition("=")
        if name not in DYSFUNCTIONS:
            raise typer.BadParameter(f"unknown dysfunction {name!r}; known: {', '.join(DYSFUNCTIONS)}")
        try:
            out_[name] = float(sev) if sev else 0.7
        except ValueError:
            raise typer.BadParameter(f"severity of {name} must be a number between 0 and 1") from None
        if not 0 <= out_[name] <= 1:
            raise typer.BadParameter(f"severity of {name} must be between 0 and 1")
    return out_


def simulate_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the simulated records into.")],
    tickets: Annotated[int, typer.Option(min=1, help="Incidents and requests to simulate.")] = 5_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 1,
    months: Annotated[int, typer.Option(min=1, max=60, help="Length of the period, in months.")] = 6,
    start: Annotated[str, typer.Option(help="First day of the period (YYYY-MM-DD).")] = "2026-01-01",
    dysfunction: Annotated[
        list[str] | None, typer.Option(help="ID or ID=SEVERITY (0–1, default 0.7); repeatable.", show_default=False)
    ] = None,
    treat: Annotated[
        list[str] | None,
        typer.Option(help="ID or ID=SEVERITY: lower this dysfunction from --from on (to 0 by default); repeatable."),
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Date the treatment takes effect (YYYY-MM-DD).")] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="canonical (Parquet per table, always written); servicenow adds the snapshot log "
            "incident_event_log.csv; servicenow-list adds incident.csv + sys_audit.csv; jira adds "
            "jira_export.csv + jira_changelog.json; xes adds log.xes.gz.",
        ),
    ] = "canonical",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    if output_format not in FORMATS:
        err.print(f"error: unknown format {output_format!r}; choose one of {', '.join(FORMATS)}")
        raise typer.Exit(EXIT_USAGE)
    try:
        severities = parse_dysfunctions(dysfunction or [])
        treated = parse_dysfunctions(treat or [])
        begin = date.fromisoformat(start)
        since = date.fromisoformat(from_) if from_ else None
    except (typer.BadParameter, ValueError) as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    if treated and since is None:
        err.print("error: --treat needs --from DATE (when the prescription takes effect)")
        raise typer.Exit(EXIT_USAGE)
    # "--treat ID" lowers to 0; "--treat ID=0.2" lowers to 0.2
    explicit = {v.partition("=")[0] for v in treat or [] if "=" in v}
    treatments = tuple(
        Treatment(dysfunction=name, since=since, to=sev if name in explicit else 0.0)
        for name, sev in treated.items()
        if since is not None
    )
    scenario = Scenario(
        seed=seed, tickets=tickets, start=begin, months=months, dysfunctions=severities, treatments=treatments
    )
    with progress_display(enabled=not quiet) as progress:
        task = progress.add_task("simulating", total=tickets)
        counts = simulate(scenario, out_dir, progress=lambda done, _total: progress.update(task, completed=done))
    if output_format == "servicenow":
        write_servicenow(out_dir, out_dir / "incident_event_log.csv")
    elif output_format == "servicenow-list":
        write_servicenow_list(out_dir, out_dir)
    elif output_format == "jira":
        write_jira(out_dir, out_dir)
    elif output_format == "xes":
        write_xes(out_dir, out_dir / "log.xes.gz")
    shown = ", ".join(f"{k} {v:,}" for k, v in counts.items() if k in ("ticket", "event", "survey_response"))
    out.print(f"Simulated {tickets:,} tickets ({shown}) into {out_dir}", highlight=False)
