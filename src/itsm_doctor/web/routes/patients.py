"""The patient's file: visits with their headline findings, the report (the same HTML as
``itsm-doctor examine --report``), diagnoses with evidence, prescriptions adopted into the
register, register statuses, the follow-up across visits, and the downloads."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
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
from itsm_doctor.web.reports import cached_report, visit_report_key
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


def _visit_ref(store: StoreDep, org: OrgAccess, visit_id: str) -> tuple[Patient, datetime]:
    found = store.visit_ref_in(organisation_id=org.organisation_id, visit_id=visit_id)
    if found is None:
        raise HTTPException(status_code=404)
    return found


def _visit(store: StoreDep, org: OrgAccess, visit_id: str) -> tuple[Patient, Visit]:
    found = store.visit_in(organisation_id=org.organisation_id, visit_id=visit_id)
    if found is None:
        raise HTTPException(status_code=404)
    return found


_VIEWS: OrderedDict[str, dict[str, Any]] = OrderedDict()
_VIEWS_KEPT = 256
_VIEWS_LOCK = threading.Lock()


def _kept(key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A page view kept in memory by ``key`` (the last 256), computed on a miss."""
    with _VIEWS_LOCK:
        found = _VIEWS.get(key)
        if found is not None:
            _VIEWS.move_to_end(key)
            return found
    view = compute()
    with _VIEWS_LOCK:
        _VIEWS[key] = view
        while len(_VIEWS) > _VIEWS_KEPT:
            _VIEWS.popitem(last=False)
    return view


def _view(visit: Visit) -> dict[str, Any]:
    """What the pages show of a visit (the report's own view, without charts); visits are
    immutable, so the view is kept by visit id."""
    return _kept(visit.id, lambda: report_view(sanitise(visit.examination), version=__version__, charts=False))


def _listed(store: StoreDep, org: OrgAccess, *, patient_id: int | None = None) -> list[dict[str, Any]]:
    """Visits newest first (patient, id, at, view); an examination is loaded only when its view is not kept."""
    rows = []
    for patient, visit_id, at in store.visit_index(organisation_id=org.organisation_id, patient_id=patient_id):
        with _VIEWS_LOCK:
            view = _VIEWS.get(visit_id)
        if view is None:
            _, visit = _visit(store, org, visit_id)
            view = _view(visit)
        rows.append({"patient": patient, "id": visit_id, "at": at, "view": view})
    return rows


@router.get("/visits")
def visits_page(request: Request, org: OrgMember, store: StoreDep) -> Response:
    rows = _listed(store, org)
    return render(request, "visits.html", org=org, rows=rows)


@router.get("/patients/{patient_slug}")
def patient_page(request: Request, org: OrgMember, store: StoreDep, patient_slug: str) -> Response:
    patient = _patient(store, org, patient_slug)
    visits = _listed(store, org, patient_id=patient.id)
    return render(
        request, "patient.html", org=org, patient=patient, visits=visits, register=store.register(patient=patient)
    )


@router.get("/visits/{visit_id}")
def visit_page(request: Request, org: OrgMember, store: StoreDep, visit_id: str) -> Response:
    patient, at = _visit_ref(store, org, visit_id)
    adopted = {e.prescription_id for e in store.register(patient=patient) if e.status != "abandoned"}
    with _VIEWS_LOCK:
        view = _VIEWS.get(visit_id)
    if view is None:
        view = _view(_visit(store, org, visit_id)[1])
    return render(
        request,
        "visit.html",
        org=org,
        patient=patient,
        visit={"id": visit_id, "at": at},
        view=view,
        adopted=adopted,
        today=date.today().isoformat(),
    )


def _cached(request: Request, key: str, draw: Callable[[], str]) -> str:
    return cached_report(get_settings(request), key, draw)


def _visit_html(request: Request, store: StoreDep, org: OrgAccess, visit_id: str) -> str:
    """The visit's report; its examination is loaded only when the report is not kept."""
    return _cached(
        request, visit_report_key(visit_id), lambda: render_html(_visit(store, org, visit_id)[1].examination)
    )


def _report(html: str, *, download: str | None = None) -> Response:
    headers = {"Content-Security-Policy": REPORT_CSP, "X-Frame-Options": "SAMEORIGIN"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{download}"'
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/visits/{visit_id}/report")
def visit_report(request: Request, org: OrgMember, store: StoreDep, visit_id: str) -> Response:
    """The self-contained HTML report of the visit, as ``examine --report`` writes it."""
    _visit_ref(store, org, visit_id)
    return _report(_visit_html(request, store, org, visit_id))


@router.get("/visits/{visit_id}/report.html")
def visit_report_download(request: Request, org: OrgMember, store: StoreDep, visit_id: str) -> Response:
    patient, at = _visit_ref(store, org, visit_id)
    return _report(_visit_html(request, store, org, visit_id), download=f"{patient.slug}-{at:%Y-%m-%d}-report.html")


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


def _followup(request: Request, store: StoreDep, org: OrgAccess, patient: Patient) -> tuple[list[Any], str]:
    """The patient's visits as (id, at) oldest first, and the key naming every input of the
    follow-up (visits, register entries): what is computed from them is kept under it."""
    index = [
        (visit_id, at)
        for _, visit_id, at in store.visit_index(organisation_id=org.organisation_id, patient_id=patient.id)
    ]
    if not index:
        raise HTTPException(status_code=404)
    index.reverse()
    register = [
        (e.id, e.status, str(e.adopted_on), str(e.started_on), str(e.completed_on), e.groups)
        for e in store.register(patient=patient)
    ]
    digest = hashlib.sha256(json.dumps([[v for v, _ in index], register], default=str).encode()).hexdigest()[:24]
    return index, f"followup-{patient.id}-{digest}"


def _followup_data(request: Request, store: StoreDep, org: OrgAccess, patient: Patient, key: str) -> dict[str, Any]:
    """The follow-up and its notes (it reads every ticket's values from the records: seconds on
    a large patient), kept on disk and in memory under ``key``."""
    settings = get_settings(request)

    def compute() -> str:
        notes: list[str] = []
        workspace = patient_workspace(settings, organisation_id=org.organisation_id, patient_id=patient.id)
        result = run_followup(store, patient, workspace, store.visits(patient=patient), note=notes.append)
        return json.dumps({"result": result, "notes": notes}, default=str)

    return _kept(key + "-data", lambda: dict(json.loads(cached_report(settings, key + "-data", compute))))


@router.get("/patients/{patient_slug}/followup")
def followup_page(request: Request, org: OrgMember, store: StoreDep, patient_slug: str) -> Response:
    patient = _patient(store, org, patient_slug)
    index, key = _followup(request, store, org, patient)
    data = _followup_data(request, store, org, patient, key)

    def view() -> dict[str, Any]:
        visits = store.visits(patient=patient)
        return report_view(
            sanitise(visits[-1].examination),
            followup=sanitise(data["result"]),
            visits=[sanitise(v.examination) for v in visits],
            version=__version__,
            charts=False,
        )

    shown = _kept(key, view)
    return render(
        request,
        "followup.html",
        org=org,
        patient=patient,
        visits=[{"id": v, "at": at} for v, at in index],
        followup=shown["followup"],
        notes=data["notes"],
    )


@router.get("/patients/{patient_slug}/followup/report")
def followup_report(request: Request, org: OrgMember, store: StoreDep, patient_slug: str) -> Response:
    """The latest visit's report with the follow-up (trends, control charts, effects), as
    ``itsm-doctor followup --report`` writes it."""
    patient = _patient(store, org, patient_slug)
    _, key = _followup(request, store, org, patient)

    def draw() -> str:
        result = _followup_data(request, store, org, patient, key)["result"]
        visits = store.visits(patient=patient)
        return render_html(visits[-1].examination, followup=result, visits=[v.examination for v in visits])

    return _report(_cached(request, key, draw))
