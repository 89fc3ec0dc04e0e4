"""The patient's file: visits with their headline findings, the report (the same HTML as
``itsm-doctor examine --report``), diagnoses with evidence, prescriptions adopted into the
register, register statuses, the follow-up across visits, and the downloads."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from itsm_doctor import __version__
from itsm_doctor.records.text import sanitise
from itsm_doctor.report import render_html
from itsm_doctor.report.view import report_view
from itsm_doctor.store import REGISTER_STATUSES, Patient, StoreError, Visit
from itsm_doctor.visits import adopt_prescription, run_followup
from itsm_doctor.web.deps import OrgAccess, OrgMember, StoreDep, get_settings
from itsm_doctor.web.jobs import patient_workspace
from itsm_doctor.web.templating import render

__all__ = ["REPORT_CSP", "formula_safe", "router"]

router = APIRouter(prefix="/o/{org_slug}")

# the report's own policy (its <meta> says the same): inline styles and data: images only;
# framed by this site's visit page only
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _patient(store: StoreDep, org: OrgAccess, slug: str) -> Patient:
    found = store.patient_in(organisation_id=org.organisation_id, slug=slug)
    if found is None:
        raise HTTPException(status_code=404)
    return found


def _visit(store: StoreDep, org: OrgAccess, visit_id: str) -> tuple[Patient, Visit]:
    found = store.visit_in(organisation_id=org.organisation_id, visit_id=visit_id)
    if found is None:
        raise HTTPException(status_code=404)
    return found


def _view(visit: Visit) -> dict[str, Any]:
    return report_view(sanitise(visit.examination), version=__version__, charts=False)


@router.get("/visits")
def visits_page(request: Request, org: OrgMember, store: StoreDep) -> Response:
    rows = []
    for patient in store.patients_in(organisation_id=org.organisation_id):
        for visit in reversed(store.visits(patient=patient)):
            view = _view(visit)
            rows.append(
                {
                    "patient": patient,
                    "visit": visit,
                    "period": view["period"],
                    "counts": view["counts"],
                    "top": view["top"],
                }
            )
    return render(request, "visits.html", org=org, rows=rows)


@router.get("/patients/{patient_slug}")
def patient_page(request: Request, org: OrgMember, store: StoreDep, patient_slug: str) -> Response:
    patient = _patient(store, org, patient_slug)
    visits = [(v, _view(v)) for v in reversed(store.visits(patient=patient))]
    return render(
        request, "patient.html", org=org, patient=patient, visits=visits, register=store.register(patient=patient)
    )


@router.get("/visits/{visit_id}")
def visit_page(request: Request, org: OrgMember, store: StoreDep, visit_id: str) -> Response:
    patient, visit = _visit(store, org, visit_id)
    adopted = {e.prescription_id for e in store.register(patient=patient) if e.status != "abandoned"}
    return render(
        request,
        "visit.html",
        org=org,
        patient=patient,
        visit=visit,
        view=_view(visit),
        adopted=adopted,
        today=date.today().isoformat(),
    )


def _cached(request: Request, key: str, draw: Callable[[], str]) -> str:
    """A drawn report from the data folder's cache (drawing one takes seconds); ``key`` names
    everything the report depends on (a visit is immutable: its id is enough)."""
    path = get_settings(request).files / "reports" / f"{key}.html"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    html = draw()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{uuid.uuid4().hex}.part")
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)  # atomic: a reader sees the whole report or none
    return html


def _visit_html(request: Request, visit: Visit) -> str:
    return _cached(request, f"visit-{visit.id}", lambda: render_html(visit.examination))


def _report(html: str, *, download: str | None = None) -> Response:
    headers = {"Content-Security-Policy": REPORT_CSP, "X-Frame-Options": "SAMEORIGIN"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{download}"'
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/visits/{visit_id}/report")
def visit_report(request: Request, org: OrgMember, store: StoreDep, visit_id: str) -> Response:
    """The self-contained HTML report of the visit, as ``examine --report`` writes it."""
    _, visit = _visit(store, org, visit_id)
    return _report(_visit_html(request, visit))


@router.get("/visits/{visit_id}/report.html")
def visit_report_download(request: Request, org: OrgMember, store: StoreDep, visit_id: str) -> Response:
    patient, visit = _visit(store, org, visit_id)
    return _report(_visit_html(request, visit), download=f"{patient.slug}-{visit.at:%Y-%m-%d}-report.html")


@router.get("/visits/{visit_id}/examination.json")
def visit_json(org: OrgMember, store: StoreDep, visit_id: str) -> Response:
    patient, visit = _visit(store, org, visit_id)
    return Response(
        json.dumps(visit.examination, indent=2, default=str),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{patient.slug}-{visit.at:%Y-%m-%d}-examination.json"'},
    )


@router.post("/visits/{visit_id}/adopt")
def adopt(
    org: OrgMember,
    store: StoreDep,
    visit_id: str,
    prescription: Annotated[str, Form(max_length=200)],
    owner: Annotated[str, Form(min_length=1, max_length=200)],
    since: Annotated[date, Form()],
) -> Response:
    """Put a prescription the visit offered into the register (once), with its owner and date."""
    patient, visit = _visit(store, org, visit_id)
    offered = {str(rx.get("id")) for rx in visit.examination.get("prescriptions") or []}
    if prescription not in offered:
        raise HTTPException(status_code=404)
    entry = adopt_prescription(store, patient, prescription, owner=owner.strip(), adopted_on=since)
    if entry is None:
        raise HTTPException(status_code=404)
    return RedirectResponse(f"/o/{org.slug}/patients/{patient.slug}/register#entry-{entry.id}", status_code=303)


@router.get("/patients/{patient_slug}/register")
def register_page(request: Request, org: OrgMember, store: StoreDep, patient_slug: str) -> Response:
    patient = _patient(store, org, patient_slug)
    return render(
        request,
        "register.html",
        org=org,
        patient=patient,
        entries=store.register(patient=patient),
        statuses=REGISTER_STATUSES,
        today=date.today().isoformat(),
    )


@router.post("/patients/{patient_slug}/register/{entry_id}/status")
def register_status(
    org: OrgMember,
    store: StoreDep,
    patient_slug: str,
    entry_id: int,
    status: Annotated[str, Form()],
    on: Annotated[date, Form()],
) -> Response:
    patient = _patient(store, org, patient_slug)
    if status not in REGISTER_STATUSES:
        raise HTTPException(status_code=422, detail=f"Choose a status among {', '.join(REGISTER_STATUSES)}.")
    try:
        store.set_status(patient=patient, entry_id=entry_id, status=status, on=on)
    except StoreError:
        raise HTTPException(status_code=404) from None
    return RedirectResponse(f"/o/{org.slug}/patients/{patient.slug}/register#entry-{entry_id}", status_code=303)


REGISTER_COLUMNS = (
    "entry",
    "prescription",
    "title",
    "dysfunction",
    "cause",
    "owner",
    "sphere",
    "status",
    "adopted_on",
    "started_on",
    "completed_on",
    "follow_up_days",
    "target_signs",
    "groups",
    "visit",
    "note",
)


@router.get("/patients/{patient_slug}/register.csv")
def register_csv(org: OrgMember, store: StoreDep, patient_slug: str) -> Response:
    """The register as CSV; a cell that a spreadsheet would run as a formula starts with a quote."""
    patient = _patient(store, org, patient_slug)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REGISTER_COLUMNS)
    for e in store.register(patient=patient):
        targets = " ".join(f"{t.get('id')}:{t.get('direction')}" for t in e.target_signs or [])
        row = (
            e.id, e.prescription_id, e.title, e.dysfunction_id, e.cause_id, e.owner, e.sphere, e.status,
            e.adopted_on, e.started_on, e.completed_on, e.follow_up_days, targets, " ".join(e.groups or []),
            e.visit_id, e.note,
        )  # fmt: skip
        writer.writerow([formula_safe(v) for v in row])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{patient.slug}-register.csv"'},
    )


def _followup(
    request: Request, store: StoreDep, org: OrgAccess, patient: Patient
) -> tuple[list[Visit], Any, list[str]]:
    visits = store.visits(patient=patient)
    if not visits:
        raise HTTPException(status_code=404)
    notes: list[str] = []
    workspace = patient_workspace(get_settings(request), organisation_id=org.organisation_id, patient_id=patient.id)
    result = run_followup(store, patient, workspace, visits, note=notes.append)
    return visits, result, notes


@router.get("/patients/{patient_slug}/followup")
def followup_page(request: Request, org: OrgMember, store: StoreDep, patient_slug: str) -> Response:
    patient = _patient(store, org, patient_slug)
    visits, result, notes = _followup(request, store, org, patient)
    view = report_view(
        sanitise(visits[-1].examination),
        followup=sanitise(result),
        visits=[sanitise(v.examination) for v in visits],
        version=__version__,
        charts=False,
    )
    return render(
        request, "followup.html", org=org, patient=patient, visits=visits, followup=view["followup"], notes=notes
    )


@router.get("/patients/{patient_slug}/followup/report")
def followup_report(request: Request, org: OrgMember, store: StoreDep, patient_slug: str) -> Response:
    """The latest visit's report with the follow-up (trends, control charts, effects), as
    ``itsm-doctor followup --report`` writes it."""
    patient = _patient(store, org, patient_slug)
    visits = store.visits(patient=patient)
    register = [
        (e.id, e.status, str(e.adopted_on), str(e.started_on), str(e.completed_on), e.groups)
        for e in store.register(patient=patient)
    ]
    key = hashlib.sha256(json.dumps([[v.id for v in visits], register], default=str).encode()).hexdigest()[:24]

    def draw() -> str:
        _, result, _ = _followup(request, store, org, patient)
        return render_html(visits[-1].examination, followup=result, visits=[v.examination for v in visits])

    if not visits:
        raise HTTPException(status_code=404)
    return _report(_cached(request, f"followup-{patient.id}-{key}", draw))
