"""Which store and which patient a command works on, so a consultant names them once.

A workspace that holds one patient needs no ``--patient`` (nor ``--organisation``); a new
workspace gets the patient ``patient`` when a command writes records. Commands that only read
(``register list``, ``followup``) never create a store, an organisation or a patient: they say
what the workspace holds instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from itsm_doctor.cli._common import EXIT_USAGE, err

if TYPE_CHECKING:
    from itsm_doctor.store import Store

__all__ = [
    "DEFAULT_PATIENT",
    "DatabaseOpt",
    "OrganisationOpt",
    "PatientOpt",
    "WorkspaceOpt",
    "open_store",
    "resolve_patient",
]

DEFAULT_PATIENT = "patient"
DEFAULT_ORGANISATION = "default"
STORE_FILE = "itsm-doctor.db"

WorkspaceOpt = Annotated[Path, typer.Option(help="The patient's workspace folder.")]
DatabaseOpt = Annotated[
    str | None, typer.Option(help="Store URL (e.g. postgresql://host/db) instead of the workspace's SQLite file.")
]
PatientOpt = Annotated[
    str | None,
    typer.Option(help="Patient name in the store; not needed when the workspace holds one patient."),
]
OrganisationOpt = Annotated[
    str | None,
    typer.Option(help="Organisation the patient belongs to; not needed when the workspace holds one patient."),
]


def _fail(message: str) -> typer.Exit:
    err.print(f"error: {message}", markup=False, highlight=False)
    return typer.Exit(EXIT_USAGE)


def open_store(*, workspace: Path, database: str | None, create: bool) -> Store:
    """The workspace's store; with ``create`` False a missing workspace store is an error
    (a read-only command must not leave an empty workspace behind)."""
    from itsm_doctor.store import Store, StoreError

    if database is None and not create and not (workspace / STORE_FILE).is_file():
        raise _fail(
            f"{workspace} holds no patient yet (no {STORE_FILE}); run `itsm-doctor examine … --workspace {workspace}` "
            "or `itsm-doctor demo` first"
        )
    try:
        return Store.open(workspace=workspace, database=database)
    except StoreError as exc:
        raise _fail(str(exc)) from None


def resolve_patient(*, store: Store, patient: str | None, organisation: str | None, create: bool) -> Any:
    """The patient a command means: the one named, else the workspace's only patient; a new
    one (``patient`` of ``default``) only when ``create`` and the store has none."""
    known = store.every_patient()
    matches = [
        (org, p)
        for org, p in known
        if (patient is None or p.slug == patient) and (organisation is None or org == organisation)
    ]
    if len(matches) == 1:
        return matches[0][1]
    names = ", ".join(f"{p.slug} ({org})" for org, p in known)
    if len(matches) > 1:
        raise _fail(f"the store holds several patients ({names}); choose one with --patient (and --organisation)")
    if create and (patient is not None or organisation is not None or not known):
        return store.patient(slug=patient or DEFAULT_PATIENT, organisation=organisation or DEFAULT_ORGANISATION)
    if not known:
        raise _fail("the store holds no patient yet; run `itsm-doctor examine` first")
    wanted = f"patient {patient!r}" if patient else "patient"
    where = f" in organisation {organisation!r}" if organisation else ""
    raise _fail(f"no {wanted}{where} in the store; it holds: {names}")
