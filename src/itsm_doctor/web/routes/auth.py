"""Sign in, sign out, set a password from a one-time link.

Sign-in is throttled: ``throttle_failures`` failed attempts for one account, or
``throttle_ip_failures`` from one address, within ``throttle_minutes`` answer 429 with the
wait (Retry-After) until the oldest failure leaves the window. Passwords are never logged.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from itsm_doctor.web.deps import MaybeLogin, StoreDep, client_ip, get_settings
from itsm_doctor.web.security import SESSION_COOKIE, digest, hash_password, new_token, verify_password
from itsm_doctor.web.templating import render

__all__ = ["MIN_PASSWORD", "router", "safe_next"]

router = APIRouter()
MIN_PASSWORD = 10


def safe_next(target: str | None) -> str:
    """Only a path of this site (``/…``, never ``//host`` or a scheme) is followed after signing in."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, login: MaybeLogin, next: str = "/") -> Response:
    if login is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", next=safe_next(next), email="", error=None)


def _wait_seconds(request: Request, store: StoreDep, email: str, ip: str) -> int:
    """Seconds until a new attempt is allowed (0 when it is)."""
    settings = get_settings(request)
    window = timedelta(minutes=settings.throttle_minutes)
    now = datetime.now(UTC)
    waits = []
    for failures, limit in (
        (store.failed_attempts(since=now - window, email=email), settings.throttle_failures),
        (store.failed_attempts(since=now - window, ip=ip), settings.throttle_ip_failures),
    ):
        if len(failures) >= limit:
            # allowed again when the failure that makes the count reach the limit leaves the window
            waits.append((failures[len(failures) - limit] + window - now).total_seconds())
    return max(0, math.ceil(max(waits))) if waits else 0


@router.post("/login")
def login_submit(
    request: Request,
    store: StoreDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    ip = client_ip(request)
    email = email.strip().lower()
    wait = _wait_seconds(request, store, email, ip)
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        response = render(
            request,
            "login.html",
            status_code=429,
            next=safe_next(next),
            email=email,
            error=f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
        )
        response.headers["Retry-After"] = str(wait)
        return response
    user = store.user_by_email(email=email)
    ok, rehashed = verify_password(user.password_hash if user else None, password)
    store.record_login_attempt(email=email, ip=ip, succeeded=ok and user is not None)
    if not ok or user is None:
        return render(
            request,
            "login.html",
            status_code=401,
            next=safe_next(next),
            email=email,
            error="Wrong e-mail or password.",
        )
    if rehashed:
        store.set_password_hash(user_id=user.id, password_hash=rehashed)
    return start_session(request, store, user_id=user.id, target=safe_next(next))


def start_session(request: Request, store: StoreDep, *, user_id: int, target: str) -> Response:
    """A new server-side session (a fresh token: never one chosen by the browser), its cookie, a redirect."""
    settings = get_settings(request)
    token = new_token()
    expires = datetime.now(UTC) + timedelta(hours=settings.session_hours)
    store.create_login_session(user_id=user_id, token_hash=digest(token), csrf_secret=new_token(), expires_at=expires)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        store.delete_login_session(token_hash=digest(old))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, store: StoreDep, login: MaybeLogin) -> Response:
    if login is not None:
        store.delete_login_session(token_hash=login.token_hash)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _link_not_valid(request: Request) -> Response:
    """The page for an unknown, expired or used set-password link (the same 404 for each)."""
    return render(
        request,
        "error.html",
        status_code=404,
        title="Link not valid",
        message="This link has expired or was used already. Ask the organisation's owner for a new one.",
    )


@router.get("/set-password/{token}")
def set_password_page(request: Request, store: StoreDep, token: str) -> Response:
    user = store.password_token_user(token_hash=digest(token))
    if user is None:
        return _link_not_valid(request)
    return render(request, "set_password.html", token=token, email=user.email, error=None)


@router.post("/set-password/{token}")
def set_password_submit(
    request: Request,
    store: StoreDep,
    token: str,
    password: Annotated[str, Form(max_length=1024)],
    confirm: Annotated[str, Form(max_length=1024)],
) -> Response:
    user = store.password_token_user(token_hash=digest(token))
    if user is None:
        return _link_not_valid(request)
    error = password_problem(password, confirm)
    if error:
        return render(request, "set_password.html", status_code=400, token=token, email=user.email, error=error)
    user_id = store.use_password_token(token_hash=digest(token))
    if user_id is None:  # spent by a concurrent request between the two looks
        return render(request, "error.html", status_code=404, title="Link not valid", message="This link was used.")
    store.set_password_hash(user_id=user_id, password_hash=hash_password(password))
    store.delete_login_sessions_of(user_id=user_id)
    return start_session(request, store, user_id=user_id, target="/")


def password_problem(password: str, confirm: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"The password needs at least {MIN_PASSWORD} characters."
    if password != confirm:
        return "The two passwords differ."
    return None
