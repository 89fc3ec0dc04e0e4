"""Passwords, tokens, CSRF and the security headers.

Passwords are hashed with Argon2id (argon2-cffi's ``PasswordHasher`` defaults, rehashed at the
next sign-in when those parameters change). Session cookies and one-time links carry a random
token; the store keeps only its SHA-256 digest, so a copy of the database opens no session.
CSRF: the synchronizer-token pattern — a random secret per login session (or, before signing
in, per browser in a cookie) is put in every form as ``csrf_token`` and compared on every
request that is not GET/HEAD/OPTIONS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "ANON_CSRF_COOKIE",
    "CSP",
    "SESSION_COOKIE",
    "SecurityHeaders",
    "digest",
    "hash_password",
    "new_token",
    "same_token",
    "verify_password",
]

SESSION_COOKIE = "itsm_doctor_session"
ANON_CSRF_COOKIE = "itsm_doctor_csrf"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

_hasher = PasswordHasher()
# each hash takes 64 MiB for ~50 ms: at most four at once, so a burst of sign-ins (a load
# test's 50 users) queues for a moment instead of taking gigabytes
_HASHING = threading.BoundedSemaphore(4)
# verified when the e-mail is unknown, so an unknown account takes as long as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    with _HASHING:
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, new hash when the stored one uses outdated parameters, else None)."""
    try:
        with _HASHING:
            _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False, None
    if password_hash is None:
        return False, None
    return True, (hash_password(password) if _hasher.check_needs_rehash(password_hash) else None)


def new_token() -> str:
    """A random URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What the store keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an empty side never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class SecurityHeaders:
    """ASGI middleware: CSP (unless the response set its own), no framing, no referrer,
    no MIME sniffing; pages are not cached (they hold one organisation's data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra = [
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if b"x-frame-options" not in names:  # the report sets SAMEORIGIN: its page embeds it
                    extra.append((b"x-frame-options", b"DENY"))
                if b"content-security-policy" not in names:
                    extra.append((b"content-security-policy", CSP.encode()))
                if not static and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, with_headers)
