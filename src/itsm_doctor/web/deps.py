"""The dependencies every route uses: the store, the signed-in user, the organisation a URL
names (only when the user is a member with an allowed role: else 404), and the CSRF check.

Routes under ``/o/{org_slug}/…`` take ``OrgMember`` (owner or member), ``OrgOwner`` (owner
only) or ``OrgAnyRole`` (respondents too): the one dependency ``organisation_access`` behind
them is the only way a route learns an organisation id, and every store call for a tenant's
data takes that id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from itsm_doctor.store import Store, UserAccount
from itsm_doctor.web.security import ANON_CSRF_COOKIE, SESSION_COOKIE, digest, same_token
from itsm_doctor.web.settings import WebSettings

__all__ = [
    "SAFE_METHODS",
    "CurrentUser",
    "Login",
    "LoginRequired",
    "MaybeLogin",
    "OrgAccess",
    "OrgAnyRole",
    "OrgMember",
    "OrgOwner",
    "StoreDep",
    "client_ip",
    "csrf_in_stream",
    "expected_csrf",
    "get_store",
    "organisation_access",
    "verify_csrf",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_REFUSED = "This form has expired or did not come from this site. Reload the page and try again."


class LoginRequired(Exception):
    """Raised by ``CurrentUser`` when nobody is signed in: the app redirects to the login page."""


@dataclass(frozen=True, kw_only=True)
class Login:
    """A live login session: who, and the CSRF secret of the session."""

    user: UserAccount
    token_hash: str
    csrf_secret: str


@dataclass(frozen=True, kw_only=True)
class OrgAccess:
    """The organisation a URL names, resolved for the signed-in member, with the role."""

    organisation_id: int
    slug: str
    name: str
    role: str
    user: UserAccount


async def get_store(request: Request) -> Store:
    # async: a dependency that does no I/O is not worth a hop through the thread pool
    return _store_of(request)


def _store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login(request: Request, store: StoreDep) -> Login | None:
    """The request's login session, looked up once per request (cached on ``request.state``)."""
    if hasattr(request.state, "login"):
        cached: Login | None = request.state.login
        return cached
    login = None
    token = request.cookies.get(SESSION_COOKIE)
    found = store.login_session(token_hash=digest(token)) if token else None
    if found is not None:
        session, user = found
        login = Login(user=user, token_hash=session.token_hash, csrf_secret=session.csrf_secret)
    request.state.login = login
    return login


MaybeLogin = Annotated[Login | None, Depends(_login)]


async def _current_user(login: MaybeLogin) -> UserAccount:
    if login is None:
        raise LoginRequired
    return login.user


CurrentUser = Annotated[UserAccount, Depends(_current_user)]


def organisation_access(*roles: str) -> Callable[..., OrgAccess]:
    """The dependency resolving ``{org_slug}`` for the user, allowing ``roles``; anything
    else (no such organisation, not a member, a role not allowed) is the same 404."""

    def resolve(org_slug: str, user: CurrentUser, store: StoreDep) -> OrgAccess:
        found = store.membership(user_id=user.id, organisation_slug=org_slug)
        if found is None or found[1] not in roles:
            raise HTTPException(status_code=404)
        org, role = found
        return OrgAccess(organisation_id=org.id, slug=org.slug, name=org.name, role=role, user=user)

    return resolve


OrgMember = Annotated[OrgAccess, Depends(organisation_access("owner", "member"))]
OrgOwner = Annotated[OrgAccess, Depends(organisation_access("owner"))]
OrgAnyRole = Annotated[OrgAccess, Depends(organisation_access("owner", "member", "respondent"))]


def expected_csrf(request: Request, login: Login | None) -> str | None:
    """The token a form must carry: the session's secret, or before signing in the browser's cookie."""
    return login.csrf_secret if login is not None else request.cookies.get(ANON_CSRF_COOKIE)


F = TypeVar("F", bound=Callable[..., object])


def csrf_in_stream(endpoint: F) -> F:
    """Mark a route that reads its own request body as a stream (uploads): the global check
    leaves it the form's ``csrf_token`` field to compare, with ``expected_csrf``, before it
    writes any byte of a file (any other body is checked here as usual)."""
    endpoint.csrf_in_stream = True  # type: ignore[attr-defined]
    return endpoint


async def verify_csrf(request: Request) -> None:
    """Applied to every route by ``create_app``: a request that is not GET/HEAD/OPTIONS must
    carry the CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``), else 403."""
    if request.method in SAFE_METHODS:
        return
    store = _store_of(request)
    login = await run_in_threadpool(_login, request, store)
    expected = expected_csrf(request, login)
    request.state.csrf_expected = expected
    streamed = getattr(request.scope.get("endpoint"), "csrf_in_stream", False)
    if streamed and request.headers.get("content-type", "").startswith("multipart/form-data"):
        return  # the route compares the form's first field before it writes anything
    given = request.headers.get("x-csrf-token")
    if given is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            field = (await request.form()).get("csrf_token")
            given = field if isinstance(field, str) else None
    if not same_token(given, expected):
        raise HTTPException(status_code=403, detail=CSRF_REFUSED)
