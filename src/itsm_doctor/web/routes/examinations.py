"""Uploads and examinations: upload exports, choose (or accept the proposed) source, run the
examination as a background job, watch its progress, read the intake's quarantine and notes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from itsm_doctor.sources import SOURCE_NAMES, get_source
from itsm_doctor.web.deps import OrgMember, StoreDep, csrf_in_stream, get_settings
from itsm_doctor.web.propose import propose_source
from itsm_doctor.web.templating import render
from itsm_doctor.web.uploads import Received, UploadRefused, receive_multipart, sniff_kind

__all__ = ["router"]

router = APIRouter(prefix="/o/{org_slug}")

_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.strip().lower()).strip("-")[:80]


def _sources() -> list[tuple[str, str]]:
    return [(name, get_source(name).summary) for name in SOURCE_NAMES if name != "canonical"]


@router.get("/uploads")
def uploads_page(request: Request, org: OrgMember, store: StoreDep) -> Response:
    settings = get_settings(request)
    return render(
        request,
        "uploads.html",
        org=org,
        uploads=store.uploads(organisation_id=org.organisation_id),
        sources=_sources(),
        limit_mib=settings.max_upload_bytes / 1024 / 1024,
        error=None,
    )


@router.post("/uploads")
@csrf_in_stream
async def upload(request: Request, org: OrgMember, store: StoreDep) -> Response:
    """Stream the files to the organisation's upload folder (see ``web.uploads``)."""
    settings = get_settings(request)
    limit = settings.max_upload_bytes
    length = request.headers.get("content-length")
    folder = settings.files / "uploads" / str(org.organisation_id)
    status, message = 0, ""
    if length is not None and length.isdigit() and int(length) > limit + 64 * 1024:
        status, message = 413, f"The upload is larger than the limit of {limit / 1024 / 1024:.0f} MiB."
    else:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            received = await receive_multipart(
                chunks=request.stream(),
                content_type=request.headers.get("content-type", ""),
                folder=folder,
                limit=limit,
                csrf_expected=getattr(request.state, "csrf_expected", None),
            )
        except UploadRefused as exc:
            status, message = exc.status, exc.message
    if status:
        uploads = await run_in_threadpool(store.uploads, organisation_id=org.organisation_id)
        return render(
            request,
            "uploads.html",
            status_code=status,
            org=org,
            uploads=uploads,
            sources=_sources(),
            limit_mib=limit / 1024 / 1024,
            error=message,
        )
    ids = await run_in_threadpool(_record_uploads, store, org, received, root=settings.files)
    query = "&".join(f"upload={i}" for i in ids)
    return RedirectResponse(f"/o/{org.slug}/examinations/new?{query}", status_code=303)


def _record_uploads(store: StoreDep, org: OrgMember, received: Received, *, root: Path) -> list[int]:
    """Store the received files as the organisation's uploads (the source chosen, else proposed)."""
    chosen = received.fields.get("source", "")
    ids = []
    for item in received.files:
        source = chosen if chosen in SOURCE_NAMES else _proposal(item.path, item.kind)
        row = store.create_upload(
            organisation_id=org.organisation_id,
            filename=item.filename,
            stored_path=str(item.path.relative_to(root)),
            size=item.size,
            kind=item.kind,
            sha256=item.sha256,
            source=source,
            uploaded_by=org.user.id,
        )
        ids.append(row.id)
    return ids


def _proposal(path: Path, kind: str) -> str | None:
    if kind == "zip":  # the first member that names a source
        members = sorted((path.parent / (path.name + ".d")).iterdir())
        for member in members:
            found = propose_source(member, sniff_kind(member))
            if found:
                return found
        return None
    return propose_source(path, kind)


@router.get("/examinations/new")
def new_examination(
    request: Request, org: OrgMember, store: StoreDep, upload: Annotated[list[int], Query()]
) -> Response:
    chosen = [store.upload(organisation_id=org.organisation_id, upload_id=i) for i in upload]
    if not chosen or any(u is None for u in chosen):
        raise HTTPException(status_code=404)
    proposals = sorted({u.source for u in chosen if u is not None and u.source})
    patients = store.patients_in(organisation_id=org.organisation_id)
    return render(
        request,
        "examination_new.html",
        org=org,
        uploads=chosen,
        sources=_sources(),
        proposed=proposals[0] if len(proposals) == 1 else None,
        disagree=len(proposals) > 1,
        patients=patients,
        patient=patients[0].slug if patients else org.slug,
    )


@router.post("/examinations")
def start_examination(
    request: Request,
    org: OrgMember,
    store: StoreDep,
    upload: Annotated[list[int], Form()],
    source: Annotated[str, Form()],
    patient: Annotated[str, Form(max_length=80)],
    timezone: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    if source not in SOURCE_NAMES:
        raise HTTPException(status_code=422, detail=f"Choose a source among {', '.join(SOURCE_NAMES)}.")
    slug = _slug(patient)
    if not slug:
        raise HTTPException(status_code=422, detail="Name the patient (letters or digits).")
    for i in upload:
        if store.upload(organisation_id=org.organisation_id, upload_id=i) is None:
            raise HTTPException(status_code=404)
    job = store.create_job(
        organisation_id=org.organisation_id,
        kind="examine",
        params={"upload_ids": list(upload), "source": source, "patient": slug, "timezone": timezone.strip() or None},
        created_by=org.user.id,
    )
    runner = request.app.state.runner
    if runner is not None:
        runner.wake()
    return RedirectResponse(f"/o/{org.slug}/jobs/{job.id}", status_code=303)


@router.get("/jobs")
def jobs_page(request: Request, org: OrgMember, store: StoreDep) -> Response:
    return render(request, "jobs.html", org=org, jobs=store.jobs(organisation_id=org.organisation_id))


def _job_or_404(store: StoreDep, org: OrgMember, job_id: int) -> Any:
    job = store.job(organisation_id=org.organisation_id, job_id=job_id)
    if job is None:
        raise HTTPException(status_code=404)
    return job


@router.get("/jobs/{job_id}")
def job_page(request: Request, org: OrgMember, store: StoreDep, job_id: int) -> Response:
    job = _job_or_404(store, org, job_id)
    uploads = [store.upload(organisation_id=org.organisation_id, upload_id=int(i)) for i in job.params["upload_ids"]]
    return render(request, "job.html", org=org, job=job, uploads=[u for u in uploads if u is not None])


@router.get("/jobs/{job_id}/status")
def job_status(org: OrgMember, store: StoreDep, job_id: int) -> Response:
    job = _job_or_404(store, org, job_id)
    return JSONResponse({"status": job.status, "progress": job.progress, "message": job.message})


@router.post("/jobs/{job_id}/retry")
def retry_job(request: Request, org: OrgMember, store: StoreDep, job_id: int) -> Response:
    """A failed (e.g. interrupted) examination started again from the same uploads."""
    job = _job_or_404(store, org, job_id)
    if job.status != "failed":
        raise HTTPException(status_code=409, detail="Only a failed examination is started again.")
    again = store.create_job(
        organisation_id=org.organisation_id, kind=job.kind, params=dict(job.params), created_by=org.user.id
    )
    runner = request.app.state.runner
    if runner is not None:
        runner.wake()
    return RedirectResponse(f"/o/{org.slug}/jobs/{again.id}", status_code=303)
