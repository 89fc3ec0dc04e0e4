"""``itsm-doctor followup``: compare a patient's visits and judge each adopted prescription."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from itsm_doctor.cli._common import EXIT_USAGE, err, out
from itsm_doctor.engine import EngineError
from itsm_doctor.followup.compare import AdoptedPrescription, TicketValues, followup
from itsm_doctor.report import render_markdown, write_html
from itsm_doctor.report.view import format_effect, format_p, format_value
from itsm_doctor.store import Store, StoreError

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

TicketValuesFactory = Callable[[Path], TicketValues | None]


def _ticket_values_factory() -> TicketValuesFactory | None:
    """The examination's per-ticket sign values, when the sign library is installed."""
    try:
        from itsm_doctor.examination import ticket_values  # type: ignore[import-not-found,attr-defined,unused-ignore]
    except ImportError:
        return None
    return ticket_values  # type: ignore[no-any-return,unused-ignore]


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
                out.print(f"[yellow]out of control[/yellow] {c['sign']}: {rules}", highlight=False)


def _print_trends(result: dict[str, Any]) -> None:
    trends = Table(title="Signs across visits", title_justify="left")
    for col in ("sign", "first", "last", "change"):
        trends.add_column(col, justify="left" if col == "sign" else "right")
    for t in result["trends"]:
        known = [v for v in t["values"] if v is not None]
        if len(known) < 2:
            continue
        trends.add_row(
            t["sign"],
            format_value(known[0], t["unit"]),
            format_value(known[-1], t["unit"]),
            format_value(t["change"], t["unit"]),
        )
    if trends.row_count:
        out.print(trends)


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


def run_followup(store: Store, who: Any, workspace: Path, visits: Sequence[Any]) -> dict[str, Any]:
    """The follow-up of ``who``: their ``visits`` (from the store, oldest first), the
    prescriptions in their register, and the per-ticket sign values of the records in
    ``workspace`` (the latest visit's)."""
    register = [
        AdoptedPrescription(
            prescription_id=e.prescription_id,
            title=e.title,
            dysfunction_id=e.dysfunction_id,
            since=e.started_on or e.adopted_on,
            target_signs=e.target_signs,
            status=e.status,
            sphere=e.sphere,
            groups=tuple(e.groups or ()),
        )
        for e in store.register(patient=who)
    ]
    factory = _ticket_values_factory()
    values = None
    if factory is not None:
        try:
            values = factory(workspace)
        except EngineError as exc:  # visits without records here (e.g. a team server's store)
            err.print(f"note: no before/after test: {exc}", highlight=False)
    return followup(visits=[v.examination for v in visits], register=register, ticket_values=values)


def followup_command(
    workspace: Annotated[Path, typer.Option(help="The patient's workspace folder.")] = Path("itsm-doctor-workspace"),
    database: Annotated[str | None, typer.Option(help="Store URL instead of the workspace's SQLite file.")] = None,
    patient: Annotated[str, typer.Option(help="Patient name in the store.")] = "patient",
    organisation: Annotated[str, typer.Option(help="Organisation the patient belongs to.")] = "default",
    report: Annotated[Path | None, typer.Option(help="Write the HTML report (latest visit + follow-up) here.")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write the report as Markdown here.")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the follow-up as JSON here.")] = None,
) -> None:
    try:
        store = Store.open(workspace=workspace, database=database)
    except StoreError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    who = store.patient(slug=patient, organisation=organisation)
    visits = store.visits(patient=who)
    if not visits:
        err.print(f"error: {patient!r} has no visit yet; run `itsm-doctor examine … --workspace {workspace}` first")
        raise typer.Exit(EXIT_USAGE)
    result = run_followup(store, who, workspace, visits)
    print_followup(result)
    latest = visits[-1].examination
    if json_file:
        json_file.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    if report:
        write_html(report, latest, followup=result)
        out.print(f"Report: {report.resolve()}", highlight=False)
    if markdown:
        markdown.write_text(render_markdown(latest, followup=result), encoding="utf-8")
