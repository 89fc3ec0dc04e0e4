"""``itsm-doctor followup``: compare a patient's visits and judge each adopted prescription."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from itsm_doctor.cli._common import EXIT_USAGE, err, out
from itsm_doctor.cli._patient import DatabaseOpt, OrganisationOpt, PatientOpt, WorkspaceOpt, open_store, resolve_patient
from itsm_doctor.report import render_markdown, write_html
from itsm_doctor.report.view import format_effect, format_p, format_value
from itsm_doctor.visits import run_followup as _run_followup

__all__ = ["FOLLOWUP_HELP", "followup_command", "print_followup", "run_followup"]

FOLLOWUP_HELP = (
    "Compare the patient's visits: each sign's trend, monthly control charts (limits from the months "
    "before an adoption), and for every prescription adopted in the register its effect on the signs it "
    "should move, with a verdict: healing, no effect yet, or relapsing.\n\n"
    "Each effect is judged on tickets that had the same chance to show the sign (too-young tickets left "
    "out and counted), against the trend the weekly series already had (and its season, with two years "
    "of history), against the groups a team remedy did not touch (register adopt --group), with Holm's "
    "correction over all the tests; 'too early: about N more weeks' says when the data cannot tell yet.\n\n"
    "The split is the date the prescription took effect (register adopt --since); the per-ticket values "
    "come from the latest visit's records. See docs/followup.md."
)


def print_followup(result: dict[str, Any], *, trends_and_charts: bool = True) -> None:
    """The adopted prescriptions' effects; with ``trends_and_charts``, also every sign's trend
    across visits and the signs out of statistical control."""
    if trends_and_charts:
        _print_trends(result)
    _print_effects(result)
    if trends_and_charts:
        for c in result["control_charts"]:
            if c["chart"]["signals"]:
                rules = ", ".join(sorted({s["rule"] for s in c["chart"]["signals"]}))
                name = str(c.get("title") or c["sign"]).removesuffix(" by month")
                out.print(f"[yellow]out of control[/yellow] {escape(name)}: {rules}", highlight=False)


def _print_trends(result: dict[str, Any]) -> None:
    """The signs that moved by 5 % or more across visits, by name (an id would fold mid-word
    in a table cell at 80 columns), and how many held steady."""
    trends = Table(title="Signs across visits (moved by 5 % or more)", title_justify="left")
    for col in ("sign", "first", "last", "change"):
        trends.add_column(col, justify="left" if col == "sign" else "right")
    steady = 0
    for t in sorted(result["trends"], key=lambda t: str(t.get("title") or t["sign"]).casefold()):
        known = [v for v in t["values"] if v is not None]
        if len(known) < 2:
            continue
        if abs(known[-1] - known[0]) < 0.05 * max(abs(known[0]), abs(known[-1])) or known[0] == known[-1]:
            steady += 1
            continue
        trends.add_row(
            str(t.get("title") or t["sign"]),
            format_value(known[0], t["unit"]),
            format_value(known[-1], t["unit"]),
            _change(t["change"], t["unit"]),
        )
    if trends.row_count:
        out.print(trends)
    if steady:
        out.print(f"{steady} other signs held within 5 % across the visits.", highlight=False)


def _change(change: float | None, unit: str | None) -> str:
    """A change first → last: shares in percentage points (a −10 % would read as relative)."""
    if change is None:
        return "n/a"
    if unit == "ratio":
        return f"{change * 100:+.1f} pts"
    shown = format_value(abs(change), unit)
    return shown if change == 0 else f"{'+' if change > 0 else '−'}{shown}"


def _print_effects(result: dict[str, Any]) -> None:
    """Per prescription, a table of its signs (narrow enough for 80 columns), then how each
    verdict was reached."""
    by_rx: dict[str, list[dict[str, Any]]] = {}
    for e in result["effects"]:
        by_rx.setdefault(str(e.get("title") or e.get("prescription")), []).append(e)
    for title, effects in by_rx.items():
        table = Table(title=f"{title} (since {effects[0].get('since')})", title_justify="left")
        for col in ("sign", "before → after", "effect [95 %]", "p (Holm)", "verdict"):
            table.add_column(col)
        for e in effects:
            unit = e.get("unit")
            table.add_row(
                str(e.get("sign_name") or e["sign"]),
                f"{format_value(e.get('before'), unit)} → {format_value(e.get('after'), unit)}",
                format_effect(e),
                format_p(e.get("p_adjusted")),
                str(e["verdict"]).replace("_", " "),
            )
        out.print(table)
        for e in effects:
            why = "; ".join([f"{e.get('confidence', 'low')} confidence", *(e.get("reasons") or [])])
            out.print(f"  [dim]{e['sign']}:[/dim] {e.get('reading') or e.get('test')} — {e.get('test')}; {why}")
    correction = result.get("correction")
    if correction and correction.get("tests"):
        out.print(f"[dim]{correction['note']}[/dim]", highlight=False)


def run_followup(store: Any, who: Any, workspace: Path, visits: Sequence[Any]) -> dict[str, Any]:
    """The follow-up of ``who`` (see ``itsm_doctor.visits.run_followup``), its notes on stderr."""
    return _run_followup(store, who, workspace, visits, note=lambda text: err.print(f"note: {text}", highlight=False))


def followup_command(
    workspace: WorkspaceOpt = Path("itsm-doctor-workspace"),
    database: DatabaseOpt = None,
    patient: PatientOpt = None,
    organisation: OrganisationOpt = None,
    report: Annotated[Path | None, typer.Option(help="Write the HTML report (latest visit + follow-up) here.")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write the report as Markdown here.")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the follow-up as JSON here.")] = None,
) -> None:
    store = open_store(workspace=workspace, database=database, create=False)
    who = resolve_patient(store=store, patient=patient, organisation=organisation, create=False)
    visits = store.visits(patient=who)
    if not visits:
        err.print(f"error: {who.slug!r} has no visit yet; run `itsm-doctor examine … --workspace {workspace}` first")
        raise typer.Exit(EXIT_USAGE)
    result = run_followup(store, who, workspace, visits)
    print_followup(result)
    latest = visits[-1].examination
    if json_file:
        json_file.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    if report:
        write_html(report, latest, followup=result, visits=[v.examination for v in visits])
        out.print(f"Report: {report.resolve()}", highlight=False)
    if markdown:
        markdown.write_text(render_markdown(latest, followup=result), encoding="utf-8")
