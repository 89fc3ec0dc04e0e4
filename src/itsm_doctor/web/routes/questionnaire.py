"""The questionnaire for many respondents.

The owner invites a respondent by link for a patient and a role: the link carries a random
token shown once on the page that creates it; the store keeps its SHA-256 digest only. The
link needs no account: it opens the role's questions, keeps a draft (the same link resumes)
and, once submitted, stores the respondent's ``AnswerSet`` and is used up. A used, expired or
withdrawn link gets a 410 page, an unknown one a 404 page — never the form. The owner sees
progress per role, the spread between roles and the self-assessed against the evidenced
maturity, and can download the answers file ``itsm-doctor examine --symptoms`` reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

import yaml
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from itsm_doctor.assessment.answers import ROLES
from itsm_doctor.store import Patient
from itsm_doctor.store.questionnaire import invitation_state
from itsm_doctor.web import questionnaire_model as qm
from itsm_doctor.web.deps import MaybeLogin, OrgOwner, StoreDep
from itsm_doctor.web.security import digest, new_token
from itsm_doctor.web.templating import render

__all__ = ["router"]

router = APIRouter()

DEFAULT_DAYS = 14
MAX_DAYS = 90
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_SLUG = re.compile(r"[^a-z0-9]+")
_CLOSED = {
    "submitted": "These answers were submitted: the link is used up. Thank you.",
    "expired": "This link has expired. Ask the person who sent it for a new one.",
    "withdrawn": "This link was withdrawn by the person who sent it.",
}


def now(request: Request) -> datetime:
    """The app's clock (``app.state.clock`` when a test sets one)."""
    clock: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.strip().lower()).strip("-")[:80]


def _patient(store: StoreDep, org: OrgOwner, slug: str) -> Patient:
    found = store.patient_in(organisation_id=org.organisation_id, slug=slug)
    if found is None:
        raise HTTPException(status_code=404)
    return found


# the owner's pages ------------------------------------------------------------------------
def _overview(request: Request, org: OrgOwner, store: StoreDep, *, status_code: int = 200, error: str = "") -> Response:
    patients = store.patients_in(organisation_id=org.organisation_id)
    invitations = store.invitations(organisation_id=org.organisation_id)
    moment = now(request)
    by_patient = {p.id: qm.progress([i for i in invitations if i.patient_id == p.id], now=moment) for p in patients}
    return render(
        request,
        "questionnaire/overview.html",
        status_code=status_code,
        org=org,
        patients=patients,
        by_patient=by_patient,
        roles=[(r, qm.ROLE_LABELS[r]) for r in ROLES],
        default_days=DEFAULT_DAYS,
        max_days=MAX_DAYS,
        error=error,
    )


@router.get("/o/{org_slug}/questionnaire")
def overview(request: Request, org: OrgOwner, store: StoreDep) -> Response:
    return _overview(request, org, store)


@router.post("/o/{org_slug}/questionnaire/invitations")
def invite(
    request: Request,
    org: OrgOwner,
    store: StoreDep,
    respondent: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form()],
    patient: Annotated[str, Form()] = "",
    new_patient: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[int, Form()] = DEFAULT_DAYS,
) -> Response:
    """Create the invitation and show its link once (it is never shown again)."""
    name = respondent.strip()
    problem = ""
    if not name:
        problem = "Give the respondent a name or an alias."
    elif role not in ROLES:
        problem = "Choose one of the roles."
    elif not 1 <= days <= MAX_DAYS:
        problem = f"A link lasts 1 to {MAX_DAYS} days."
    elif not (patient or _slug(new_patient)):
        problem = "Choose the patient the answers are about, or name a new one."
    if problem:
        return _overview(request, org, store, status_code=400, error=problem)
    if new_patient.strip() and _slug(new_patient):
        who = store.patient_in(organisation_id=org.organisation_id, slug=_slug(new_patient), create=True)
    else:
        who = store.patient_in(organisation_id=org.organisation_id, slug=patient)
    if who is None:
        raise HTTPException(status_code=404)
    token = new_token()
    invitation = store.create_invitation(
        organisation_id=org.organisation_id,
        patient_id=who.id,
        respondent=name,
        role=role,
        token_hash=digest(token),
        expires_at=now(request) + timedelta(days=days),
        created_by=org.user.id,
    )
    return render(
        request,
        "questionnaire/invited.html",
        org=org,
        patient=who,
        invitation=invitation,
        role_label=qm.ROLE_LABELS[role],
        link=f"{str(request.base_url).rstrip('/')}/q/{token}",
    )


@router.post("/o/{org_slug}/questionnaire/invitations/{invitation_id}/withdraw")
def withdraw(request: Request, org: OrgOwner, store: StoreDep, invitation_id: int) -> Response:
    rows = [i for i in store.invitations(organisation_id=org.organisation_id) if i.id == invitation_id]
    if not rows:
        raise HTTPException(status_code=404)
    store.withdraw_invitation(organisation_id=org.organisation_id, invitation_id=invitation_id, now=now(request))
    patient = next(p for p in store.patients_in(organisation_id=org.organisation_id) if p.id == rows[0].patient_id)
    return RedirectResponse(f"/o/{org.slug}/questionnaire/patients/{patient.slug}", status_code=303)


@router.get("/o/{org_slug}/questionnaire/patients/{patient_slug}")
def patient_page(request: Request, org: OrgOwner, store: StoreDep, patient_slug: str) -> Response:
    who = _patient(store, org, patient_slug)
    moment = now(request)
    invitations = store.invitations(organisation_id=org.organisation_id, patient_id=who.id)
    answer_sets = store.answer_sets_in(organisation_id=org.organisation_id, patient_id=who.id)
    # the evidence reads the latest visit, and the first one for an improvement across visits
    visit_ids = store.visit_ids_in(organisation_id=org.organisation_id, patient_id=who.id)
    ends = list(dict.fromkeys(visit_ids[:1] + visit_ids[-1:]))
    exams = store.examinations_in(organisation_ids=[org.organisation_id], visit_ids=ends)
    maturity, radar = qm.self_against_evidence(answer_sets, [list(exams[v].get("signs") or []) for v in ends])
    rows = [
        {
            "id": i.id,
            "respondent": i.respondent,
            "role": qm.ROLE_LABELS.get(i.role, i.role),
            "state": invitation_state(i, now=moment),
            "created_at": i.created_at,
            "expires_at": i.expires_at,
            "submitted_at": i.submitted_at,
        }
        for i in invitations
    ]
    return render(
        request,
        "questionnaire/patient.html",
        org=org,
        patient=who,
        progress=qm.progress(invitations, now=moment),
        invitations=rows,
        live=qm.LIVE_STATES,
        answer_sets=answer_sets,
        spread=qm.spread(answer_sets),
        roles=[(r, qm.ROLE_LABELS[r]) for r in ROLES],
        maturity=maturity,
        radar=radar,
        visits=len(visit_ids),
    )


@router.get("/o/{org_slug}/questionnaire/patients/{patient_slug}/answers.yaml")
def answers_download(request: Request, org: OrgOwner, store: StoreDep, patient_slug: str) -> Response:
    """The answers as the file ``itsm-doctor assess`` writes (``examine --symptoms`` reads it)."""
    who = _patient(store, org, patient_slug)
    data = qm.answers_file(who.slug, store.answer_sets_in(organisation_id=org.organisation_id, patient_id=who.id))
    text = yaml.safe_dump(data.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True)
    return Response(
        text,
        media_type="application/yaml; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{who.slug}-answers.yaml"'},
    )


# the respondent's pages (no account: the link's token is the key) -------------------------
def _closed(request: Request, state: str | None) -> Response:
    if state is None:
        return render(
            request,
            "questionnaire/closed.html",
            status_code=404,
            title="Unknown link",
            message="This questionnaire link is not valid. Check that it was copied whole.",
        )
    return render(
        request,
        "questionnaire/closed.html",
        status_code=410,
        title="Link no longer open",
        message=_CLOSED.get(state, "This link is no longer open."),
    )


def _form(
    request: Request,
    *,
    token: str,
    respondent: str,
    role: str,
    patient: Patient,
    answers: dict[str, object],
    status_code: int = 200,
    problems: list[str] | None = None,
    saved: bool = False,
) -> Response:
    done, total = qm.answered_count(answers, role=role)
    return render(
        request,
        "questionnaire/answer.html",
        status_code=status_code,
        token=token,
        respondent=respondent,
        role_label=qm.ROLE_LABELS[role],
        patient=patient,
        sections=qm.sections_for(role),
        answers=answers,
        done=done,
        total=total,
        problems=problems or [],
        saved=saved,
    )


@router.get("/q/{token}")
def answer_page(request: Request, store: StoreDep, _login: MaybeLogin, token: str) -> Response:
    found = store.invitation_by_token(token_hash=digest(token)) if _TOKEN.match(token) else None
    if found is None:
        return _closed(request, None)
    invitation, patient = found
    state = invitation_state(invitation, now=now(request))
    if state not in qm.LIVE_STATES:
        return _closed(request, state)
    return _form(
        request,
        token=token,
        respondent=invitation.respondent,
        role=invitation.role,
        patient=patient,
        answers=dict(invitation.draft or {}),
    )


@router.post("/q/{token}")
async def answer(request: Request, store: StoreDep, _login: MaybeLogin, token: str) -> Response:
    """Save the draft (``action=save``) or submit (``action=submit``)."""
    found = (
        await run_in_threadpool(store.invitation_by_token, token_hash=digest(token)) if _TOKEN.match(token) else None
    )
    if found is None:
        return _closed(request, None)
    invitation, patient = found
    moment = now(request)
    state = invitation_state(invitation, now=moment)
    if state not in qm.LIVE_STATES:
        return _closed(request, state)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    answers, problems = qm.read_answers(fields, role=invitation.role)
    kw = {"token": token, "respondent": invitation.respondent, "role": invitation.role, "patient": patient}
    submit = fields.get("action") == "submit"
    if submit and not problems and not answers:
        problems = ["Answer at least one question before submitting (or save and come back later)."]
    if problems:
        return _form(request, **kw, answers=dict(answers), status_code=400, problems=problems)  # type: ignore[arg-type]
    if submit:
        stored = await run_in_threadpool(store.submit_invitation, token_hash=digest(token), answers=answers, now=moment)
        if stored is None:  # raced by another submission, or expired meanwhile
            again = await run_in_threadpool(store.invitation_by_token, token_hash=digest(token))
            return _closed(request, invitation_state(again[0], now=moment) if again else None)
        done, total = qm.answered_count(answers, role=invitation.role)
        return render(request, "questionnaire/thanks.html", respondent=invitation.respondent, done=done, total=total)
    if not await run_in_threadpool(store.save_draft, token_hash=digest(token), answers=answers, now=moment):
        again = await run_in_threadpool(store.invitation_by_token, token_hash=digest(token))
        return _closed(request, invitation_state(again[0], now=moment) if again else None)
    return _form(request, **kw, answers=dict(answers), saved=True)  # type: ignore[arg-type]
