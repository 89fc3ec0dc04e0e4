"""``itsm-doctor demo``: simulate a mid-size patient with three dysfunctions, examine it, report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer

from itsm_doctor.cli._common import EXIT_USAGE, err, out, progress_display
from itsm_doctor.examination import examine
from itsm_doctor.report import render_markdown, write_html
from itsm_doctor.report.view import format_value
from itsm_doctor.simulate import Scenario, simulate
from itsm_doctor.store import Store

__all__ = ["DEMO_DYSFUNCTIONS", "DEMO_HELP", "demo"]

DEMO_HELP = """Simulate a mid-size IT organisation (about 20,000 tickets over six months) that suffers
from three dysfunctions, examine it like a real patient, and write the report.

The demo's truth: assignment ping-pong, wait-user abuse and absent problem management.
See whether the diagnosis finds them.
"""

DEMO_DYSFUNCTIONS = {"assignment-ping-pong": 0.8, "wait-user-abuse": 0.7, "problem-management-absent": 0.8}


def demo(
    workspace: Annotated[Path, typer.Option(help="Folder for the demo patient (recreated).")] = Path(
        "itsm-doctor-demo"
    ),
    tickets: Annotated[int, typer.Option(min=500, help="Tickets to simulate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2026,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    if workspace.exists():
        if not (workspace / "truth.json").exists() and any(workspace.iterdir()):
            err.print(f"error: {workspace} exists and is not a demo workspace; choose another --workspace")
            raise typer.Exit(EXIT_USAGE)
        shutil.rmtree(workspace)
    exports = workspace / "exports"
    scenario = Scenario(seed=seed, tickets=tickets, dysfunctions=dict(DEMO_DYSFUNCTIONS))
    with progress_display(enabled=not quiet) as progress:
        task = progress.add_task("simulating the patient", total=tickets)
        simulate(scenario, exports, progress=lambda done, _t: progress.update(task, completed=done))
        progress.update(task, description="examining", total=None)
        exam, result = examine(
            [exports],
            source="canonical",
            workspace=workspace,
            patient="demo",
            progress=lambda msg: progress.update(task, description=f"examining: {msg}"),
        )
    shutil.copy(exports / "truth.json", workspace / "truth.json")
    data = exam.as_json()
    store = Store.open(workspace=workspace)
    store.record_visit(
        patient=store.patient(slug="demo", name="Demo patient"),
        examination=data,
        fingerprints=[f.fingerprint for f in result.files],
        visit_id=exam.visit.id,
    )
    (workspace / "examination.json").write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    (workspace / "report.md").write_text(render_markdown(data), encoding="utf-8")
    report = write_html(workspace / "report.html", data)
    out.print(f"[bold]Demo patient[/bold]: {result.rows_read:,} rows taken in, {len(data['signs'])} signs measured.")
    poor = [s for s in data["signs"] if s["status"] == "poor"]
    if poor:
        out.print("Signs in the poor band:")
        for s in poor[:8]:
            out.print(f"  • {s['name']} ({s['id']}): {format_value(s['value'], s['unit'])}", highlight=False)
    found = [d for d in data["diagnoses"] if d["verdict"] in ("present", "possible")]
    if found:
        out.print("Top findings:")
        for d in found[:5]:
            out.print(f"  • {d['name']}: {d['verdict']} ({d['likelihood']:.0%})", highlight=False)
    for note in data.get("notes") or []:
        out.print(f"[dim]note:[/dim] {note}", highlight=False)
    out.print(f"Injected (truth.json): {', '.join(f'{k} {v}' for k, v in DEMO_DYSFUNCTIONS.items())}")
    out.print(f"Report: {report.resolve()}", highlight=False)
