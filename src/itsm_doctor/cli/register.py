"""``itsm-doctor register``: the improvement register — adopt prescriptions, follow their status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from itsm_doctor.cli._common import EXIT_USAGE, err, out
from itsm_doctor.cli._patient import (
    DatabaseOpt,
    OrganisationOpt,
    PatientOpt,
    WorkspaceOpt,
    open_store,
    resolve_patient,
)
from itsm_doctor.store import REGISTER_STATUSES
from itsm_doctor.visits import adopt_prescription, find_prescription

if TYPE_CHECKING:
    pass

__all__ = ["adopt_prescription", "find_prescription", "print_prescriptions", "register_app"]


register_app = typer.Typer(
    help="The improvement register: prescriptions the patient adopted, with owner, status and dates.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _today() -> date:
    return date.today()


def _date(text: str | None, option: str) -> date:
    try:
        return date.fromisoformat(text) if text else _today()
    except ValueError:
        err.print(f"error: {option} {text!r} is not a date (YYYY-MM-DD)", markup=False, highlight=False)
        raise typer.Exit(EXIT_USAGE) from None


def print_prescriptions(examination: Mapping[str, Any], *, workspace: Path | None = None) -> None:
    """The prescriptions a visit offers, each with the id ``register adopt`` takes."""
    offered = list(examination.get("prescriptions") or [])
    if not offered:
        return
    names = {str(d.get("id")): str(d.get("name") or d.get("id")) for d in examination.get("diagnoses") or []}
    where = f" --workspace {workspace}" if workspace is not None else ""
    out.print("Prescriptions", style="bold", markup=False, highlight=False)
    out.print(
        f"(adopt one: itsm-doctor register adopt ID --owner ROLE{where})", markup=False, highlight=False, soft_wrap=True
    )
    for rx in offered:
        out.print(f"  {rx.get('id')} — {rx.get('title', '')}", markup=False, highlight=False)
        dysfunction = names.get(str(rx.get("dysfunction")), str(rx.get("dysfunction", "")))
        out.print(
            f"      for {dysfunction} · {rx.get('sphere', '')} · effort {rx.get('effort', '')}",
            style="dim",
            markup=False,
            highlight=False,
        )


def _offered(visits: Sequence[Any]) -> list[str]:
    latest = visits[-1].examination if visits else {}
    return [f"  {rx.get('id')}  {rx.get('title', '')}" for rx in latest.get("prescriptions") or []]


@register_app.command("adopt")
def adopt(
    prescription: Annotated[str, typer.Argument(help="Prescription id (as the examination printed it) or its title.")],
    owner: Annotated[str, typer.Option(help="Who is accountable (a role or a name).")],
    since: Annotated[
        str | None, typer.Option(metavar="DATE", help="Date the remedy takes effect (YYYY-MM-DD); default today.")
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            metavar="GROUP",
            help="For a team remedy: a group id of the records it changes (repeat for several); the follow-up "
            "compares them with the groups it did not touch.",
        ),
    ] = None,
    workspace: WorkspaceOpt = Path("itsm-doctor-workspace"),
    database: DatabaseOpt = None,
    patient: PatientOpt = None,
    organisation: OrganisationOpt = None,
) -> None:
    """Put a prescription of the latest visits into the register (once: adopting it again
    shows the entry it already has)."""
    adopted_on = _date(since, "--since")
    store = open_store(workspace=workspace, database=database, create=False)
    who = resolve_patient(store=store, patient=patient, organisation=organisation, create=False)
    visits = store.visits(patient=who)
    if not visits:
        err.print(f"error: {who.slug!r} has no visit yet; run `itsm-doctor examine … --workspace {workspace}` first")
        raise typer.Exit(EXIT_USAGE)
    before = {e.id for e in store.register(patient=who)}
    entry = adopt_prescription(store, who, prescription, owner=owner, adopted_on=adopted_on, groups=group or ())
    if entry is None:
        err.print(
            f"error: no prescription {prescription!r} (id or title) among those the visits of {who.slug!r} offered; "
            "the latest visit offered:",
            markup=False,
            highlight=False,
        )
        for line in _offered(visits):
            err.print(line, markup=False, highlight=False)
        raise typer.Exit(EXIT_USAGE)
    if entry.id in before:
        out.print(
            f"{entry.prescription_id} is already in the register as entry {entry.id} "
            f"(status {entry.status.replace('_', ' ')}, adopted on {entry.adopted_on}, owner {entry.owner}); "
            "nothing added.",
            markup=False,
            highlight=False,
        )
        return
    out.print(
        f"Adopted {entry.title} ({entry.prescription_id}) as register entry {entry.id}, "
        f"owner {owner}, from {adopted_on}.",
        markup=False,
        highlight=False,
    )


@register_app.command("status")
def status(
    entry: Annotated[int, typer.Argument(help="Register entry number (see `register list`).")],
    new_status: Annotated[str, typer.Argument(metavar="STATUS", help=f"One of: {', '.join(REGISTER_STATUSES)}.")],
    on: Annotated[
        str | None, typer.Option(metavar="DATE", help="Date of the change (YYYY-MM-DD); default today.")
    ] = None,
    workspace: WorkspaceOpt = Path("itsm-doctor-workspace"),
    database: DatabaseOpt = None,
    patient: PatientOpt = None,
    organisation: OrganisationOpt = None,
) -> None:
    """Move a register entry to in_progress, done or abandoned (on or after its adoption)."""
    from itsm_doctor.store import StoreError

    when = _date(on, "--on")
    store = open_store(workspace=workspace, database=database, create=False)
    who = resolve_patient(store=store, patient=patient, organisation=organisation, create=False)
    current = next((e for e in store.register(patient=who) if e.id == entry), None)
    if current is not None and when < current.adopted_on:
        err.print(
            f"error: entry {entry} was adopted on {current.adopted_on}; a status on {when} would come before it",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(EXIT_USAGE)
    try:
        store.set_status(patient=who, entry_id=entry, status=new_status, on=when)
    except StoreError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    out.print(f"Register entry {entry}: {new_status.replace('_', ' ')} on {when}.", highlight=False)


def _sign_names(visits: Sequence[Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for v in visits:
        names.update({str(s["id"]): str(s.get("name") or s["id"]) for s in v.examination.get("signs") or []})
    return names


@register_app.command("list")
def list_entries(
    workspace: WorkspaceOpt = Path("itsm-doctor-workspace"),
    database: DatabaseOpt = None,
    patient: PatientOpt = None,
    organisation: OrganisationOpt = None,
) -> None:
    """Show the register, one block per entry (it reads at 80 columns and when piped)."""
    store = open_store(workspace=workspace, database=database, create=False)
    who = resolve_patient(store=store, patient=patient, organisation=organisation, create=False)
    entries = store.register(patient=who)
    names = _sign_names(store.visits(patient=who))
    count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
    out.print(f"Improvement register of {who.name} ({count})", style="bold", markup=False, highlight=False)
    if not entries:
        out.print("Nothing adopted yet: `itsm-doctor register adopt ID --owner ROLE`.", markup=False, highlight=False)
    for e in entries:
        dated = f"adopted {e.adopted_on}"
        if e.started_on:
            dated += f", started {e.started_on}"
        if e.completed_on:
            dated += f", {'done' if e.status == 'done' else 'ended'} {e.completed_on}"
        moves = ", ".join(
            f"{names.get(t['id'], t['id'])} {'↓' if t.get('direction') == 'down' else '↑'}" for t in e.target_signs
        )
        out.print("", markup=False)
        out.print(f"#{e.id}  {e.title}", style="bold", markup=False, highlight=False)
        for line in (
            f"id {e.prescription_id} · for {e.dysfunction_id}",
            f"status {e.status.replace('_', ' ')} · {dated}",
            f"owner {e.owner} · sphere {e.sphere}" + (f" · groups {', '.join(e.groups)}" if e.groups else ""),
            f"should move: {moves or 'no sign named'}",
        ):
            out.print(f"    {line}", markup=False, highlight=False)
