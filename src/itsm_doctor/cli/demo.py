"""``itsm-doctor demo``: simulate a mid-size patient with three dysfunctions, examine it, adopt a
prescription, examine it again after the remedy took effect, and report with the follow-up."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from itsm_doctor.cli._common import EXIT_USAGE, err, out, progress_display
from itsm_doctor.cli.examine import rediagnose
from itsm_doctor.cli.followup import print_followup, run_followup
from itsm_doctor.cli.register import adopt_prescription
from itsm_doctor.examination import examine
from itsm_doctor.report import render_markdown, write_html
from itsm_doctor.report.view import format_value
from itsm_doctor.simulate import Scenario, Treatment, simulate
from itsm_doctor.store import Store

__all__ = ["DEMO_DYSFUNCTIONS", "DEMO_HELP", "TREATED_FROM", "demo"]

DEMO_HELP = """Simulate a mid-size IT organisation (about 20,000 tickets over
six months) that suffers from three dysfunctions, examine it like a real
patient, and write the report.

The demo's truth: assignment ping-pong, wait-user abuse and absent problem
management. See whether the diagnosis finds them.

Then the demo plays the follow-up: a prescription (the assignment matrix
against ping-pong) is adopted from 1 July, the organisation works on with that
remedy in effect, a second visit (records January to September) is examined,
and the follow-up judges whether the prescription moved its signs. The report
shows the second visit with its follow-up.
"""

DEMO_DYSFUNCTIONS = {"assignment-ping-pong": 0.8, "wait-user-abuse": 0.7, "problem-management-absent": 0.9}
TREATED_FROM = date(2026, 7, 1)
DEMO_PRESCRIPTION = "assignment-matrix"
_OWNER = "service desk manager"


def demo(
    workspace: Annotated[Path, typer.Option(help="Folder for the demo patient (recreated).")] = Path(
        "itsm-doctor-demo"
    ),
    tickets: Annotated[int, typer.Option(min=500, help="Tickets to simulate for the first visit.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2026,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    if workspace.exists():
        if not (workspace / "truth.json").exists() and any(workspace.iterdir()):
            err.print(f"error: {workspace} exists and is not a demo workspace; choose another --workspace")
            raise typer.Exit(EXIT_USAGE)
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    store = Store.open(workspace=workspace)
    who = store.patient(slug="demo", name="Demo patient")
    first = Scenario(seed=seed, tickets=tickets, dysfunctions=dict(DEMO_DYSFUNCTIONS))
    with progress_display(enabled=not quiet) as progress:
        data1, rows1 = _visit(first, workspace / "visit-1", store=store, who=who, progress=progress, label="visit 1")
    shutil.copy(workspace / "visit-1" / "exports" / "truth.json", workspace / "truth.json")
    write_html(workspace / "visit-1" / "report.html", data1)
    _summary(data1, rows1)

    adopted = _adopt_first(store, who, data1)
    if adopted is None:
        out.print("No prescription to adopt: the demo stops after the first visit.")
        _write_reports(workspace, data1, None)
        return
    out.print(
        f"Adopted [bold]{adopted.title}[/bold] (for {adopted.dysfunction_id}) from {TREATED_FROM}, "
        f"owner {_OWNER}; the organisation works on with it in effect.",
        highlight=False,
    )
    # three months later: the same organisation, January–September, the remedy in effect from July
    second = Scenario(
        seed=seed + 1,
        tickets=tickets * 3 // 2,
        months=first.months + 3,
        start=first.start,
        dysfunctions=dict(DEMO_DYSFUNCTIONS),
        treatments=(Treatment(dysfunction=adopted.dysfunction_id, since=TREATED_FROM),),
    )
    with progress_display(enabled=not quiet) as progress:
        data2, _rows2 = _visit(second, workspace / "visit-2", store=store, who=who, progress=progress, label="visit 2")
    result = run_followup(store, who, workspace / "visit-2", store.visits(patient=who))
    print_followup(result, trends_and_charts=False)
    _write_reports(workspace, data2, result)


def _visit(
    scenario: Scenario, folder: Path, *, store: Store, who: Any, progress: Any, label: str
) -> tuple[dict[str, Any], int]:
    """Simulate ``scenario`` into ``folder``/exports, examine it there and record the visit."""
    exports = folder / "exports"
    task = progress.add_task(f"{label}: simulating", total=scenario.tickets)
    simulate(scenario, exports, progress=lambda done, _t: progress.update(task, completed=done))
    progress.update(task, description=f"{label}: examining", total=None)
    exam, result = examine(
        [exports],
        source="canonical",
        workspace=folder,
        patient="demo",
        progress=lambda msg: progress.update(task, description=f"{label}: {msg}"),
    )
    data = rediagnose(exam.as_json(), store=store, who=who, symptoms=None, sphere="enterprise")
    store.record_visit(
        patient=who, examination=data, fingerprints=[f.fingerprint for f in result.files], visit_id=exam.visit.id
    )
    return data, result.rows_read


def _adopt_first(store: Store, who: Any, data: dict[str, Any]) -> Any:
    """Adopt the assignment matrix against ping-pong when offered (its signs are measured per
    ticket, so the follow-up can test them), else the first prescription offered for one of
    the demo's dysfunctions found present."""
    present = {d["id"] for d in data["diagnoses"] if d["verdict"] == "present"}
    offered = [
        rx
        for rx in data["prescriptions"]
        if rx.get("dysfunction") in present and rx.get("dysfunction") in DEMO_DYSFUNCTIONS and rx.get("moves")
    ]
    offered.sort(key=lambda rx: rx["id"] != DEMO_PRESCRIPTION)  # stable: otherwise the diagnosis' order
    if not offered:
        return None
    return adopt_prescription(store, who, offered[0]["id"], owner=_OWNER, adopted_on=TREATED_FROM)


def _summary(data: dict[str, Any], rows: int) -> None:
    out.print(f"[bold]Demo patient, visit 1[/bold]: {rows:,} rows taken in, {len(data['signs'])} signs measured.")
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


def _write_reports(workspace: Path, data: dict[str, Any], followup: dict[str, Any] | None) -> None:
    (workspace / "examination.json").write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    if followup is not None:
        (workspace / "followup.json").write_text(json.dumps(followup, indent=2, default=str), encoding="utf-8")
    (workspace / "report.md").write_text(render_markdown(data, followup=followup), encoding="utf-8")
    report = write_html(workspace / "report.html", data, followup=followup)
    out.print(f"Report: {report.resolve()}", highlight=False)
