"""``itsm-doctor examine``: intake, every sign, diagnosis; the visit is stored in the workspace."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from itsm_doctor.assessment.answers import load_answers
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
from itsm_doctor.cli._engines import start_engine
from itsm_doctor.cli._patient import DatabaseOpt, OrganisationOpt, PatientOpt, WorkspaceOpt, open_store, resolve_patient
from itsm_doctor.cli._progress import sign_steps
from itsm_doctor.cli.intake import print_intake
from itsm_doctor.cli.register import print_prescriptions
from itsm_doctor.engine import ENGINES
from itsm_doctor.examination import Examination, examine
from itsm_doctor.intake.workspace import check_writable
from itsm_doctor.report import render_html, render_markdown
from itsm_doctor.report.view import AREAS, format_value
from itsm_doctor.signs import SIGNS
from itsm_doctor.sources import SOURCE_NAMES, check_mapping
from itsm_doctor.sources.base import SourceOptions
from itsm_doctor.visits import rediagnose

__all__ = ["EXAMINE_HELP", "examine_command", "print_examination", "rediagnose"]

EXAMINE_HELP = f"""Examine a patient: take in the exports, measure every sign the records allow, diagnose.

Signs whose inputs the records lack say n/a with the reason. The examination is stored as a
dated visit in the workspace (SQLite, or --database) so that `itsm-doctor followup` can compare
visits. Sources: {", ".join(SOURCE_NAMES)}. Engines: duckdb (default, in-process) or spark
(PySpark; local mode unless --spark-master or ITSM_DOCTOR_SPARK_MASTER names a cluster).

Exit code: 0 done; 1 the examination ran but intake quarantined more than --max-quarantine of
the rows; 2 unreadable input or usage error.
"""


def print_examination(exam: Examination) -> None:
    """The signs by audit area, then the diagnoses, as people read them."""
    colour = {"good": "green", "fair": "yellow", "poor": "red", "n/a": "dim"}
    for area in AREAS:
        table = Table(title=f"Signs — {area}", title_justify="left")
        for col in ("sign", "value", "status", "note"):
            table.add_column(col, justify="right" if col == "value" else "left")
        for s in (s for s in exam.signs if s.area == area):
            # the name, not the id: a table cell folds an id mid-word at 80 columns
            table.add_row(
                s.name, format_value(s.value, s.unit), f"[{colour[s.status]}]{s.status}[/]", s.reason or s.note or ""
            )
        out.print(table)
    present = [d for d in exam.diagnoses if d.verdict in ("present", "possible")]
    if present:
        dx = Table(title="Diagnoses", title_justify="left")
        for col in ("dysfunction", "verdict", "likelihood", "evidence for", "missing"):
            dx.add_column(col)
        for d in present:
            names = {s.id: s.name for s in exam.signs}
            support = ", ".join(names.get(e.id, e.id) for e in d.evidence if e.supports)
            missing = ", ".join(names.get(m.id, m.id) for m in d.missing)
            dx.add_row(d.name, d.verdict, f"{d.likelihood:.0%}", support, missing)
        out.print(dx)
    for note in exam.notes:
        out.print(f"[dim]note:[/dim] {note}", highlight=False)


def examine_command(
    paths: Annotated[list[Path], typer.Argument(help="Export files or folders.", show_default=False)],
    source: Annotated[str, typer.Option("--source", "-s", help=f"Source reader: {', '.join(SOURCE_NAMES)}.")],
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="YAML mapping: columns for --source csv (a preset's override); the site's fields for --source jira;"
            " an activity_map of its lifecycle for --source xes."
        ),
    ] = None,
    symptoms: Annotated[
        Path | None, typer.Option(help="Answers file (YAML/CSV) whose symptom statements enter the diagnosis.")
    ] = None,
    workspace: WorkspaceOpt = Path("itsm-doctor-workspace"),
    database: DatabaseOpt = None,
    patient: PatientOpt = None,
    organisation: OrganisationOpt = None,
    engine: Annotated[str, typer.Option(help=f"Query engine: {', '.join(ENGINES)}.")] = "duckdb",
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="With --engine spark: the cluster (spark://HOST:7077, yarn, k8s://https://HOST:443);"
            " default ITSM_DOCTOR_SPARK_MASTER, else local mode. See docs/spark.md."
        ),
    ] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the examination JSON here.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the self-contained HTML report here.")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write the report as Markdown here.")] = None,
    max_quarantine: Annotated[
        str, typer.Option(help="Largest share of quarantined rows still accepted (0.01 or 1%); above it, exit 1.")
    ] = "1%",
    timezone: Annotated[str | None, typer.Option(help="Time zone of times written without an offset.")] = None,
    sphere: Annotated[
        str,
        typer.Option(
            help="Your circle of influence: team, department or enterprise; prescriptions beyond it are left out."
        ),
    ] = "enterprise",
    roles: Annotated[
        Path | None,
        typer.Option(
            help="YAML file of group name or id → support tier (1–3), overriding tiers inferred from routing."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="On an error, show the traceback too.")] = False,
) -> None:
    limit = parse_share(max_quarantine)
    if source not in SOURCE_NAMES:
        raise fail(f"--source {source!r}: unknown source; choose one of {', '.join(SOURCE_NAMES)}")
    if engine not in ENGINES:
        raise fail(f"--engine {engine!r}: unknown engine; choose one of {', '.join(ENGINES)}")
    if sphere not in ("team", "department", "enterprise"):
        raise fail(f"--sphere {sphere!r}: unknown sphere; choose team, department or enterprise")
    if spark_master is not None:
        if engine != "spark":
            raise fail("--spark-master: only with --engine spark")
        os.environ["ITSM_DOCTOR_SPARK_MASTER"] = spark_master  # read when the session starts
    for path, option in ((json_file, "--json"), (report, "--report"), (markdown, "--markdown")):
        check_output_file(path, option=option)
    with user_errors(debug=debug):
        # everything that can be refused is refused before the long work
        if symptoms is not None:
            load_answers(symptoms)
        if mapping is not None:
            check_mapping(source=source, path=mapping)
        check_writable(workspace)
        # the patient first: an ambiguous workspace is a usage error before the long work
        store = open_store(workspace=workspace, database=database, create=True)
        who = resolve_patient(store=store, patient=patient, organisation=organisation, create=True)
        start_engine(engine, log=workspace / "spark.log")  # the JVM's warnings go to the log
        with progress_display(enabled=not quiet) as progress:
            task = progress.add_task("examining", total=None)
            exam, result = examine(
                paths,
                source=source,
                workspace=workspace,
                options=SourceOptions(mapping=mapping, timezone=timezone),
                engine=engine,
                patient=who.slug,
                symptoms=symptoms,
                progress=sign_steps(progress, task, label="", signs={s.id for s in SIGNS}),
                roles=roles,
            )
        print_intake(result)
        data = rediagnose(exam.as_json(), store=store, who=who, symptoms=symptoms, sphere=sphere)
        print_examination(Examination.model_validate(data))
        print_prescriptions(data, workspace=workspace)
        # the outputs are rendered before the visit is stored: a report that cannot be
        # drawn leaves no visit behind
        html = render_html(data) if report else None
        text = render_markdown(data) if markdown else None
        store.record_visit(
            patient=who,
            examination=data,
            fingerprints=[f.fingerprint for f in result.files],
            visit_id=exam.visit.id,
        )
        if json_file:
            json_file.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        if report and html is not None:
            report.write_text(html, encoding="utf-8")
            out.print(f"Report: {report.resolve()}", highlight=False)
        if markdown and text is not None:
            markdown.write_text(text, encoding="utf-8")
    if result.quarantine_share > limit:
        err.print(
            f"intake quarantined {result.quarantine_share:.2%} of {result.rows_read:,} rows, "
            f"above the allowed {limit:.2%} (--max-quarantine)",
            highlight=False,
        )
        raise typer.Exit(EXIT_INTAKE)
