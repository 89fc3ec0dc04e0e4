"""The start page (the user's organisations) and an organisation's page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from itsm_doctor.web.deps import CurrentUser, OrgAnyRole, StoreDep
from itsm_doctor.web.templating import render

__all__ = ["router"]

router = APIRouter()


@router.get("/")
def home(request: Request, user: CurrentUser, store: StoreDep) -> Response:
    organisations = store.organisations_of(user_id=user.id)
    may_create = user.is_admin or any(role == "owner" for _, role in organisations)
    return render(request, "home.html", organisations=organisations, may_create=may_create)


@router.get("/o/{org_slug}")
def organisation(request: Request, org: OrgAnyRole, store: StoreDep) -> Response:
    patients = store.patients_in(organisation_id=org.organisation_id) if org.role != "respondent" else []
    return render(request, "organisation.html", org=org, patients=patients)
