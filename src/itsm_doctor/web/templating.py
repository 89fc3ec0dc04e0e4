"""Server-rendered pages: one Jinja2 environment (autoescaped) over the package's templates.

``render(request, "page.html", **context)`` adds what every page needs: ``user`` (or None),
``csrf_token`` (put it in every form as ``<input type="hidden" name="csrf_token" …>``, or use
the ``{{ csrf_field() }}`` macro of ``base.html``), ``org`` when the page is an organisation's.
Templates only display: no query, no logic beyond loops and conditions.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from itsm_doctor.web.deps import Login
from itsm_doctor.web.security import ANON_CSRF_COOKIE, new_token

__all__ = ["environment", "render"]

_TEMPLATES = resources.files("itsm_doctor.web") / "templates"


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship in the package: no stat of every template per page
    )
    env.filters["when"] = _when
    return env


environment = _environment()


def render(request: Request, template: str, /, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The ``template`` as a response, with the user, the CSRF token and the context."""
    login: Login | None = getattr(request.state, "login", None)
    set_anon = None
    if login is not None:
        token = login.csrf_secret
    else:
        token = request.cookies.get(ANON_CSRF_COOKIE) or ""
        if not token:
            token = set_anon = new_token()
    page = environment.get_template(template).render(
        request=request, user=login.user if login else None, csrf_token=token, **context
    )
    response = HTMLResponse(page, status_code=status_code)
    if set_anon:
        settings = request.app.state.settings
        response.set_cookie(
            ANON_CSRF_COOKIE, set_anon, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
        )
    return response
