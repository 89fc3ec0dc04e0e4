"""``create_app(settings)``: the FastAPI app — store, routers, CSRF, security headers, jobs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from itsm_doctor.store import Store
from itsm_doctor.web.deps import LoginRequired, verify_csrf
from itsm_doctor.web.jobs import JobRunner
from itsm_doctor.web.routes import auth, examinations, home, organisations, patients, portfolio, questionnaire
from itsm_doctor.web.security import SecurityHeaders
from itsm_doctor.web.settings import WebSettings
from itsm_doctor.web.templating import render

__all__ = ["ROUTERS", "create_app", "route_table"]

log = logging.getLogger("itsm_doctor.web")

# Every router of the app; a new part adds its module here (its routes get the CSRF check,
# the security headers and the error pages like the others).
ROUTERS = (
    auth.router,
    home.router,
    organisations.router,
    examinations.router,
    patients.router,
    questionnaire.router,
    portfolio.router,
)

_TITLES = {
    400: "Bad request",
    401: "Sign in needed",
    403: "Refused",
    404: "Not found",
    405: "Not allowed",
    413: "Too large",
    422: "Check the form",
    429: "Too many attempts",
}


def route_table(routes: Iterable[object], prefix: str = "") -> list[tuple[str, frozenset[str]]]:
    """Every route's path and methods, flattened through included routers (the security
    tests walk it: each state-changing route must refuse a request without a CSRF token)."""
    table: list[tuple[str, frozenset[str]]] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            table += route_table(included.routes, prefix + str(getattr(context, "prefix", "") or ""))
        elif isinstance(route, APIRoute):
            table.append((prefix + route.path, frozenset(route.methods or ())))
    return table


def create_app(settings: WebSettings, *, store: Store | None = None) -> FastAPI:
    """The web app on ``settings`` (the store is opened and migrated here unless given)."""
    store = store or Store.open(workspace=settings.workspace, database=settings.database)
    if store.engine.dialect.name == "sqlite":
        # pages read while a job writes its progress: in WAL mode readers never wait for the writer
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    settings.files.mkdir(parents=True, exist_ok=True)
    secret = settings.key()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # what only throttling and sign-in read: old attempts and dead sessions go at each start
        store.forget_login_attempts(before=datetime.now(UTC) - timedelta(days=1))
        store.delete_expired_login_sessions()
        interrupted = store.fail_interrupted_jobs()
        if interrupted:
            log.warning("%d job(s) left running by a stopped process were marked failed", interrupted)
        runner = None
        if settings.job_workers > 0:
            runner = JobRunner(store=store, settings=settings, workers=settings.job_workers)
            runner.start()
        app.state.runner = runner
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()

    app = FastAPI(
        title="ITSM Doctor",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        dependencies=[Depends(verify_csrf)],
    )
    app.state.settings = settings
    app.state.store = store
    app.state.secret_key = secret
    app.state.runner = None
    app.add_middleware(SecurityHeaders)  # type: ignore[arg-type]
    app.mount("/static", StaticFiles(directory=str(resources.files("itsm_doctor.web") / "static")), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _error_page(request: Request, exc: StarletteHTTPException) -> Response:
        title = _TITLES.get(exc.status_code, "Error")
        message = exc.detail if exc.status_code != 404 else "There is nothing here, or it is not yours to see."
        response = render(request, "error.html", status_code=exc.status_code, title=title, message=message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid_form(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        message = "These fields are missing or not valid: " + ", ".join(fields) if fields else "The form is not valid."
        return render(request, "error.html", status_code=422, title=_TITLES[422], message=message)

    return app
