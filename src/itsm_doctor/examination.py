"""One module runs a visit: records → signs → diagnoses → prescriptions → the ``Examination``.

The pydantic ``Examination`` *is* the JSON contract of DESIGN.md
(``"schema": "itsm-doctor/examination/1"``); the CLI, the store and the report all read it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import ibis
from pydantic import BaseModel, ConfigDict, Field

from itsm_doctor.assessment import load_answers, load_maturity_bank, score_practices
from itsm_doctor.engine import Records, open_records
from itsm_doctor.followup.cohort import TicketValue
from itsm_doctor.followup.maturity import evidenced_maturity, maturity_gaps
from itsm_doctor.intake.run import IntakeResult, run_intake, workspace_assumptions
from itsm_doctor.signs import examine_signs, get_sign
from itsm_doctor.signs.mining import group_handovers, status_dfg, variants
from itsm_doctor.signs.roles import apply_roles, load_roles
from itsm_doctor.sources.base import SourceOptions

__all__ = [
    "SCHEMA",
    "BenchmarkBand",
    "Cause",
    "Diagnose",
    "Diagnosis",
    "Evidence",
    "Examination",
    "IntakeEntry",
    "MissingEvidence",
    "Period",
    "Prescription",
    "SignEntry",
    "Visit",
    "build_examination",
    "examine",
    "maturity_section",
    "ticket_values",
]

SCHEMA: Literal["itsm-doctor/examination/1"] = "itsm-doctor/examination/1"


class _Contract(BaseModel):
    # later steps (diagnosis, report) may add keys; the contract's keys are checked
    model_config = ConfigDict(populate_by_name=True, extra="allow")


class Period(_Contract):
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None


class Visit(_Contract):
    id: str
    at: str
    period: Period


class IntakeEntry(_Contract):
    file: str
    source: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    reasons: dict[str, int] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


class BenchmarkBand(_Contract):
    good: float
    poor: float
    source: str


class SignEntry(_Contract):
    """One measured sign: the headline value, its band and status, its breakdowns."""

    id: str
    name: str
    area: Literal["compliance", "quality", "performance", "value"]
    practice: str
    value: float | None
    unit: str
    direction: Literal["higher", "lower"]
    benchmark: BenchmarkBand
    status: Literal["good", "fair", "poor", "n/a"]
    n: int = 0
    reason: str | None = None
    note: str | None = None
    breakdowns: dict[str, Any] = Field(default_factory=dict)


class Evidence(_Contract):
    kind: Literal["sign", "symptom"]
    id: str
    value: float | str | None = None
    supports: bool


class Cause(_Contract):
    id: str
    name: str
    likelihood: float = Field(ge=0, le=1)


class MissingEvidence(_Contract):
    """A sign the dysfunction reads that these records cannot give, and why."""

    id: str
    reason: str | None = None


class Diagnosis(_Contract):
    id: str
    name: str
    verdict: Literal["present", "possible", "absent", "undetermined"]
    likelihood: float = Field(ge=0, le=1)
    confidence: float = Field(default=1.0, ge=0, le=1)
    evidence: list[Evidence] = Field(default_factory=list)
    missing: list[MissingEvidence] = Field(default_factory=list)
    causes: list[Cause] = Field(default_factory=list)


class Prescription(_Contract):
    id: str
    dysfunction: str
    cause: str | None = None
    title: str
    practice: str
    sphere: Literal["team", "department", "enterprise"]
    effort: str
    moves: list[str] = Field(default_factory=list)
    follow_up_days: int | None = None


class Examination(_Contract):
    """The examination JSON of DESIGN.md; extra keys: records (rows per table), roles (where
    each group's tier comes from: the export, a mapping file, or inferred from routing),
    process (directly-follows graph, handovers, variants), maturity, notes, assumptions (what
    intake assumed, e.g. the clock of times written without an offset)."""

    schema_: Literal["itsm-doctor/examination/1"] = Field(default=SCHEMA, alias="schema")
    patient: str
    visit: Visit
    intake: list[IntakeEntry] = Field(default_factory=list)
    records: dict[str, int] = Field(default_factory=dict)
    roles: dict[str, Any] = Field(default_factory=dict)
    signs: list[SignEntry] = Field(default_factory=list)
    diagnoses: list[Diagnosis] = Field(default_factory=list)
    prescriptions: list[Prescription] = Field(default_factory=list)
    process: dict[str, Any] = Field(default_factory=dict)
    maturity: dict[str, Any] | None = None
    notes: list[str] = Field(default_factory=list)
    # what intake assumed (clock and time zone, inferred mappings, derived events, dropped marks)
    assumptions: list[str] = Field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def _period(r: Records) -> Period:
    """From the first to the last opening in the records."""
    t = r["ticket"]
    row = r.execute(t.aggregate(first=t.opened_at.min(), last=t.opened_at.max())).to_pylist()[0]
    return Period.model_validate(
        {
            "from": row["first"].isoformat() if row["first"] else None,
            "to": row["last"].isoformat() if row["last"] else None,
        }
    )


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


# The pluggable diagnosis step: (signs as JSON, symptoms file) → (diagnoses, prescriptions)
# as JSON; the diagnosis layer provides it, the examination does not know how it works.
Diagnose = Callable[[list[dict[str, Any]], Path | None], tuple[list[dict[str, Any]], list[dict[str, Any]]]]


def _installed_diagnosis() -> Diagnose | None:
    """The diagnosis step, when the diagnosis layer is installed."""
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
    assumptions: Sequence[str] = (),
    symptoms: Path | None = None,
    at: datetime | None = None,
    diagnose: Diagnose | None = None,
    progress: Callable[[str], None] | None = None,
    roles: Mapping[str, int] | None = None,
) -> Examination:
    """Measure every sign on the records, then diagnose with ``diagnose`` (default: the
    installed diagnosis step; without one, diagnoses and prescriptions stay empty and a note
    says why). Group tiers come from ``roles`` (group → tier) when given, else from the
    export, else they are inferred from routing (``itsm_doctor.signs.roles``)."""
    inferred = apply_roles(r, mapping=roles)
    notes: list[str] = []
    if inferred.source == "inferred":
        notes.append(f"support tiers inferred from the records: {inferred.basis}; override with --roles FILE")
    findings = examine_signs(r, progress=progress)
    signs = [f.as_json() for f in findings]
    step = diagnose or _installed_diagnosis()
    diagnoses: list[dict[str, Any]] = []
    prescriptions: list[dict[str, Any]] = []
    if step is None:
        notes.append("diagnosis not yet available: no diagnosis step is installed, so no verdicts")
        if symptoms is not None:
            notes.append(f"symptoms not yet available: {symptoms} was not read (it feeds the diagnosis)")
    else:
        if progress:
            progress("diagnosis")
        diagnoses, prescriptions = step(signs, symptoms)
    maturity = maturity_section(signs, symptoms) if symptoms is not None else None
    return Examination.model_validate(
        {
            "schema": SCHEMA,
            "maturity": maturity,
            "patient": patient,
            "visit": {"id": uuid.uuid4().hex[:12], "at": (at or datetime.now(UTC)).isoformat(), "period": _period(r)},
            "intake": list(intake),
            "records": dict(r.counts),
            "roles": inferred.as_json(),
            "signs": signs,
            "diagnoses": diagnoses,
            "prescriptions": prescriptions,
            "process": _process(r),
            "notes": notes,
            "assumptions": list(assumptions),
        }
    )


def maturity_section(signs: Sequence[dict[str, Any]], answers_file: Path) -> dict[str, Any] | None:
    """Self-assessed maturity per practice (from the answers file), the maturity the records
    evidence, and the gap between them; None when nobody answered a capability criterion."""
    answers = load_answers(answers_file)
    bank = load_maturity_bank()
    respondents = [
        (r.name, r.role, {k: v for k, v in r.answers.items() if k in bank.criterion_ids}) for r in answers.respondents
    ]
    scores = [s for s in score_practices(respondents, bank=bank) if s.level is not None]
    if not scores:
        return None
    evidenced = evidenced_maturity(signs)
    gaps = maturity_gaps({s.practice: s.level for s in scores}, evidenced)
    known = [g["gap"] for g in gaps.values() if g["gap"] is not None]
    return {
        "practices": gaps,
        "self_assessment": [s.as_json() for s in scores],
        "evidence": [e.as_json() for e in evidenced],
        "mean_gap": sum(known) / len(known) if known else None,
        "roles_disagree": [s.practice for s in scores if s.roles_disagree],
    }


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
    roles: Path | None = None,
) -> tuple[Examination, IntakeResult]:
    """Intake the exports into the workspace, then examine the records on ``engine``
    (``roles``: a YAML file of group → tier overriding the inferred tiers)."""
    mapping = load_roles(roles) if roles is not None else None  # a bad file fails before the long work
    result = run_intake(
        paths, source=source, workspace=workspace, options=options or SourceOptions(), progress=progress
    )
    records = open_records(workspace, engine=engine)
    intake = [
        {
            k: v
            for k, v in f.as_json().items()
            if k in ("file", "source", "rows_read", "rows_accepted", "rows_quarantined", "reasons", "notes")
        }
        for f in result.files
    ]
    exam = build_examination(
        records,
        patient=patient,
        intake=intake,
        assumptions=workspace_assumptions(workspace),
        symptoms=symptoms,
        progress=progress,
        roles=mapping,
    )
    return exam, result


def ticket_values(workspace: Path, *, engine: str = "duckdb") -> Callable[[str], list[TicketValue] | None]:
    """For follow-up: a sign's value per ticket with the ticket's opening, its settlement (the
    first of resolution, closure, cancellation) and its group (None when the sign is not a
    per-ticket measure or is n/a on these records)."""
    records = open_records(workspace, engine=engine)

    def values(sign_id: str) -> list[TicketValue] | None:
        try:
            sign = get_sign(sign_id)
        except KeyError:
            return None
        if sign.per_ticket is None:
            return None
        per = sign.per_ticket(records).filter(lambda t: t.value.notnull())
        t = records["ticket"]
        tickets = t.select(
            "ticket_id",
            "opened_at",
            settled_at=ibis.coalesce(t.resolved_at, t.closed_at, t.cancelled_at),
            group=t.assigned_group_id,
        )
        rows = records.execute(per.join(tickets, "ticket_id").select("opened_at", "settled_at", "group", "value"))
        return [
            TicketValue(opened_at=r["opened_at"], value=float(r["value"]), settled_at=r["settled_at"], group=r["group"])
            for r in rows.to_pylist()
            if r["opened_at"] is not None
        ] or None

    return values
