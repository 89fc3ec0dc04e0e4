"""Organisations and their members: create one (an administrator, or a consultant who owns
one already), invite a member with a role — an existing account is added, a new one gets a
one-time link to set its password (shown once to the owner, valid 7 days)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from itsm_doctor.store import ROLES, StoreError
from itsm_doctor.web.deps import CurrentUser, OrgOwner, StoreDep
from itsm_doctor.web.security import digest, new_token
from itsm_doctor.web.templating import render

__all__ = ["INVITE_DAYS", "may_create_organisations", "router"]

router = APIRouter()
INVITE_DAYS = 7
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def may_create_organisations(store: StoreDep, user: CurrentUser) -> bool:
    return user.is_admin or any(role == "owner" for _, role in store.organisations_of(user_id=user.id))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")[:80]


@router.get("/organisations/new")
def new_organisation(request: Request, user: CurrentUser, store: StoreDep) -> Response:
    if not may_create_organisations(store, user):
        raise HTTPException(status_code=404)
    return render(request, "organisation_new.html", error=None, name="", slug="")


@router.post("/organisations")
def create_organisation(
    request: Request,
    user: CurrentUser,
    store: StoreDep,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    slug: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    if not may_create_organisations(store, user):
        raise HTTPException(status_code=404)
    wanted = _slug(slug or name)
    error = None if wanted else "Give a name with letters or digits."
    if wanted in ("new",):
        error = "Choose another short name."
    if error is None:
        try:
            org = store.create_organisation(slug=wanted, name=name.strip())
        except StoreError:
            error = f"The short name {wanted!r} is taken; choose another."
        else:
            store.add_member(user_id=user.id, organisation_id=org.id, role="owner")
            return RedirectResponse(f"/o/{org.slug}", status_code=303)
    return render(request, "organisation_new.html", status_code=400, error=error, name=name, slug=slug)


@router.get("/o/{org_slug}/members")
def members_page(request: Request, org: OrgOwner, store: StoreDep) -> Response:
    return render(
        request,
        "members.html",
        org=org,
        members=store.members(organisation_id=org.organisation_id),
        roles=ROLES,
        link=None,
        error=None,
    )


@router.post("/o/{org_slug}/members")
def invite_member(
    request: Request,
    org: OrgOwner,
    store: StoreDep,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form()],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    email = email.strip().lower()
    error, link = None, None
    if not _EMAIL.match(email):
        error = "Give an e-mail address."
    elif role not in ROLES:
        error = f"Choose a role among {', '.join(ROLES)}."
    else:
        user = store.user_by_email(email=email)
        if user is None:
            user = store.create_user(email=email, display_name=name.strip() or email, password_hash=None)
        if user.password_hash is None:  # a new account (or one never activated): a fresh one-time link
            token = new_token()
            store.create_password_token(
                user_id=user.id, token_hash=digest(token), expires_at=datetime.now(UTC) + timedelta(days=INVITE_DAYS)
            )
            link = str(request.base_url).rstrip("/") + f"/set-password/{token}"
        store.add_member(user_id=user.id, organisation_id=org.organisation_id, role=role)
    return render(
        request,
        "members.html",
        status_code=400 if error else 200,
        org=org,
        members=store.members(organisation_id=org.organisation_id),
        roles=ROLES,
        link=link,
        invited=email,
        error=error,
    )
