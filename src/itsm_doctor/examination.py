"""One module runs a visit: records → signs → diagnoses → prescriptions → the ``Examination``.

The pydantic ``Examination`` *is* the JSON contract of DESIGN.md
(``"schema": "itsm-doctor/examination/1"``); the CLI, the store and the report all read it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from itsm_doctor.engine import Records, open_records
from itsm_doctor.intake.run import IntakeResult, run_intake
from itsm_doctor.signs import examine_signs, get_sign
from itsm_doctor.signs.mining import group_handovers, status_dfg, variants
from itsm_doctor.sources.base import SourceOptions

__all__ = ["SCHEMA", "Examination", "Visit", "build_examination", "examine", "ticket_values"]

SCHEMA = "itsm-doctor/examination/1"


class Visit(BaseModel):
    id: str
    at: str
    period: dict[str, str | None]


class Examination(BaseModel):
    """The examination JSON (DESIGN.md); extra keys: records, process, maturity, notes."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: str = Field(default=SCHEMA, alias="schema")
    patient: str
    visit: Visit
    intake: list[dict[str, Any]] = Field(default_factory=list)
    records: dict[str, int] = Field(default_factory=dict)
    signs: list[dict[str, Any]] = Field(default_factory=list)
    diagnoses: list[dict[str, Any]] = Field(default_factory=list)
    prescriptions: list[dict[str, Any]] = Field(default_factory=list)
    process: dict[str, Any] = Field(default_factory=dict)
    maturity: dict[str, Any] | None = None
    notes: list[str] = Field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def _period(r: Records) -> dict[str, str | None]:
    t = r["ticket"]
    row = r.execute(t.aggregate(first=t.opened_at.min(), last=t.opened_at.max())).to_pylist()[0]
    return {
        "from": row["first"].isoformat() if row["first"] else None,
        "to": row["last"].isoformat() if row["last"] else None,
    }


def _process(r: Records) -> dict[str, Any]:
    if not r.has("event"):
        return {}
    names = {
        row["group_id"]: row["name"] or row["group_id"]
        for row in r.execute(r["group"].select("group_id", "name")).to_pylist()
    }
    handovers = [
        {**row, "from": names.get(row["from"], row["from"]), "to": names.get(row["to"], row["to"])}
        for row in r.execute(group_handovers(r).limit(400)).to_pylist()
    ]
    return {
        "status_dfg": r.execute(status_dfg(r)).to_pylist(),
        "handovers": handovers,
        "variants": r.execute(variants(r)).to_pylist(),
    }


Diagnose = Callable[[list[dict[str, Any]], Path | None], tuple[list[dict[str, Any]], list[dict[str, Any]]]]


def _diagnosis_step() -> Diagnose | None:
    """The diagnosis engine, when the pathology catalog is installed."""
    try:
        from itsm_doctor.diagnosis import diagnose_examination  # type: ignore[import-not-found,attr-defined,unused-ignore]
    except ImportError:
        return None
    return diagnose_examination  # type: ignore[no-any-return,unused-ignore]


def build_examination(
    r: Records,
    *,
    patient: str,
    intake: Sequence[dict[str, Any]] = (),
    symptoms: Path | None = None,
    at: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> Examination:
    """Measure every sign on the records and diagnose."""
    findings = examine_signs(r, progress=progress)
    signs = [f.as_json() for f in findings]
    notes: list[str] = []
    diagnose = _diagnosis_step()
    diagnoses: list[dict[str, Any]] = []
    prescriptions: list[dict[str, Any]] = []
    if diagnose is None:
        notes.append("diagnosis not available: the pathology catalog is not installed")
    else:
        diagnoses, prescriptions = diagnose(signs, symptoms)
    return Examination(
        patient=patient,
        visit=Visit(id=uuid.uuid4().hex[:12], at=(at or datetime.now(UTC)).isoformat(), period=_period(r)),
        intake=list(intake),
        records=dict(r.counts),
        signs=signs,
        diagnoses=diagnoses,
        prescriptions=prescriptions,
        process=_process(r),
        notes=notes,
    )


def examine(
    paths: Sequence[Path],
    *,
    source: str,
    workspace: Path,
    options: SourceOptions | None = None,
    engine: str = "duckdb",
    patient: str = "patient",
    symptoms: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Examination, IntakeResult]:
    """Intake the exports into the workspace, then examine the records on ``engine``."""
    result = run_intake(
        paths, source=source, workspace=workspace, options=options or SourceOptions(), progress=progress
    )
    records = open_records(workspace, engine=engine)
    intake = [
        {
            k: v
            for k, v in f.as_json().items()
            if k in ("file", "source", "rows_read", "rows_accepted", "rows_quarantined", "reasons")
        }
        for f in result.files
    ]
    exam = build_examination(records, patient=patient, intake=intake, symptoms=symptoms, progress=progress)
    return exam, result


def ticket_values(workspace: Path, *, engine: str = "duckdb") -> Callable[[str], list[tuple[datetime, float]] | None]:
    """For follow-up: a sign's value per ticket with the ticket's opening time (None when the
    sign is not a per-ticket measure or is n/a on these records)."""
    records = open_records(workspace, engine=engine)

    def values(sign_id: str) -> list[tuple[datetime, float]] | None:
        try:
            sign = get_sign(sign_id)
        except KeyError:
            return None
        if sign.per_ticket is None:
            return None
        per = sign.per_ticket(records).filter(lambda t: t.value.notnull())
        tickets = records["ticket"].select("ticket_id", "opened_at")
        rows = records.execute(per.join(tickets, "ticket_id").select("opened_at", "value")).to_pylist()
        return [(row["opened_at"], float(row["value"])) for row in rows if row["opened_at"] is not None] or None

    return values
