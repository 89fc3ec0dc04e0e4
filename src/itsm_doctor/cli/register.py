"""``itsm-doctor register``: the improvement register — adopt prescriptions, follow their status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from itsm_doctor.cli._common import EXIT_USAGE, err, out
from itsm_doctor.store import REGISTER_STATUSES, Store, StoreError

__all__ = ["adopt_prescription", "register_app"]

register_app = typer.Typer(
    help="The improvement register: prescriptions the patient adopted, with owner, status and dates.",
    no_args_is_help=True,
)

WorkspaceOpt = Annotated[Path, typer.Option(help="The patient's workspace folder.")]
DatabaseOpt = Annotated[
    str | None, typer.Option(help="Store URL (e.g. postgresql://host/db) instead of the workspace's SQLite file.")
]
PatientOpt = Annotated[str, typer.Option(help="Patient name in the store.")]
OrganisationOpt = Annotated[str, typer.Option(help="Organisation the patient belongs to.")]


def _open(workspace: Path, database: str | None) -> Store:
    try:
        return Store.open(workspace=workspace, database=database)
    except StoreError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None


def _prescription_in_visits(
    store: Store, patient: Any, prescription_id: str
) -> tuple[dict[str, Any], str, dict[str, str]] | None:
    """The prescription as the latest visit that proposed it gave it, that visit's id, and
    the wanted direction of each sign it should move (down when lower is better)."""
    for visit in reversed(store.visits(patient=patient)):
        for rx in visit.examination.get("prescriptions") or []:
            if rx.get("id") == prescription_id:
                better = {
                    str(s["id"]): "up" if s.get("direction") == "higher" else "down"
                    for s in visit.examination.get("signs") or []
                }
                return rx, visit.id, better
    return None


def adopt_prescription(
    store: Store, who: Any, prescription_id: str, *, owner: str, adopted_on: date, groups: Sequence[str] = ()
) -> Any:
    """Put the prescription as the latest visit proposed it into the register, with the signs
    it should move and their wanted direction, and for a team remedy the ``groups`` it
    changes; None when no visit proposed it."""
    found = _prescription_in_visits(store, who, prescription_id)
    if found is None:
        return None
    rx, visit_id, better = found
    targets = [{"id": s, "direction": better.get(s, "down")} for s in rx.get("moves") or []]
    return store.adopt(
        patient=who,
        prescription_id=prescription_id,
        dysfunction_id=str(rx.get("dysfunction", "")),
        cause_id=rx.get("cause"),
        title=str(rx.get("title", prescription_id)),
        owner=owner,
        sphere=str(rx.get("sphere", "department")),
        target_signs=targets,
        adopted_on=adopted_on,
        follow_up_days=rx.get("follow_up_days"),
        visit_id=visit_id,
        groups=groups,
    )


@register_app.command("adopt")
def adopt(
    prescription: Annotated[str, typer.Argument(help="Prescription id, as shown in the examination.")],
    owner: Annotated[str, typer.Option(help="Who is accountable (a role or a name).")],
    since: Annotated[str | None, typer.Option(help="Date the remedy takes effect (YYYY-MM-DD); default today.")] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            help="For a team remedy: a group id of the records it changes (repeat for several); the follow-up "
            "compares them with the groups it did not touch."
        ),
    ] = None,
    workspace: WorkspaceOpt = Path("itsm-doctor-workspace"),
    database: DatabaseOpt = None,
    patient: PatientOpt = "patient",
    organisation: OrganisationOpt = "default",
) -> None:
    """Put a prescription from the latest visits into the register."""
    try:
        adopted_on = date.fromisoformat(since) if since else date.today()
    except ValueError:
        err.print(f"error: --since {since!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(EXIT_USAGE) from None
    store = _open(workspace, database)
    who = store.patient(slug=patient, organisation=organisation)
    entry = adopt_prescription(store, who, prescription, owner=owner, adopted_on=adopted_on, groups=group or ())
    if entry is None:
        err.print(
            f"error: no visit of {patient!r} proposed a prescription {prescription!r}; run `itsm-doctor examine` first"
        )
        raise typer.Exit(EXIT_USAGE)
    out.print(f"Adopted [bold]{entry.title}[/bold] (register entry {entry.id}), owner {owner}, from {adopted_on}.")


@register_app.command("status")
def status(
    entry: Annotated[int, typer.Argument(help="Register entry number (see `register list`).")],
    new_status: Annotated[str, typer.Argument(help=f"One of: {', '.join(REGISTER_STATUSES)}.")],
    on: Annotated[str | None, typer.Option(help="Date of the change (YYYY-MM-DD); default today.")] = None,
    workspace: WorkspaceOpt = Path("itsm-doctor-workspace"),
    database: DatabaseOpt = None,
    patient: PatientOpt = "patient",
    organisation: OrganisationOpt = "default",
) -> None:
    """Move a register entry to in_progress, done or abandoned."""
    store = _open(workspace, database)
    who = store.patient(slug=patient, organisation=organisation)
    try:
        when = date.fromisoformat(on) if on else date.today()
        store.set_status(patient=who, entry_id=entry, status=new_status, on=when)
    except (StoreError, ValueError) as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    out.print(f"Register entry {entry}: {new_status} on {when}.")


@register_app.command("list")
def list_entries(
    workspace: WorkspaceOpt = Path("itsm-doctor-workspace"),
    database: DatabaseOpt = None,
    patient: PatientOpt = "patient",
    organisation: OrganisationOpt = "default",
) -> None:
    """Show the register."""
    store = _open(workspace, database)
    who = store.patient(slug=patient, organisation=organisation)
    table = Table(title=f"Improvement register of {patient}", title_justify="left")
    for col in ("#", "prescription", "for", "owner", "sphere", "status", "adopted", "targets"):
        table.add_column(col)
    for e in store.register(patient=who):
        targets = ", ".join(f"{t['id']} {'↓' if t.get('direction') == 'down' else '↑'}" for t in e.target_signs)
        table.add_row(str(e.id), e.title, e.dysfunction_id, e.owner, e.sphere, e.status, str(e.adopted_on), targets)
    out.print(table)
