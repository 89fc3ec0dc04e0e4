"""The store's calls for the web app's people: accounts, organisations and memberships,
login sessions, login attempts and one-time password links.

Tokens reach the store already digested (SHA-256 of the random value the browser holds) and
passwords already hashed (Argon2, by ``itsm_doctor.web.security``): nothing here sees a secret.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from itsm_doctor.store.errors import StoreError
from itsm_doctor.store.models import Organisation, Patient, Visit
from itsm_doctor.store.web_models import (
    ROLES,
    LoginAttempt,
    LoginSession,
    Membership,
    PasswordToken,
    UserAccount,
)

__all__ = ["AccountStore", "aware"]


def aware(moment: datetime) -> datetime:
    """A stored time as UTC-aware (SQLite gives back naive UTC times)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class AccountStore:
    """Mixed into ``Store``: every call opens its own short transaction."""

    if TYPE_CHECKING:

        def session(self) -> AbstractContextManager[Session]: ...

    # accounts ---------------------------------------------------------------------------
    def create_user(
        self, *, email: str, display_name: str, password_hash: str | None, is_admin: bool = False
    ) -> UserAccount:
        """A new account; a StoreError when the e-mail is taken."""
        email = email.strip().lower()
        with self.session() as s:
            if s.scalar(select(UserAccount.id).where(UserAccount.email == email)) is not None:
                raise StoreError(f"an account with the e-mail {email} exists already")
            user = UserAccount(
                email=email,
                display_name=display_name.strip() or email,
                password_hash=password_hash,
                is_admin=is_admin,
                created_at=_now(),
            )
            s.add(user)
            s.flush()
            return user

    def user_by_email(self, *, email: str) -> UserAccount | None:
        with self.session() as s:
            return s.scalar(select(UserAccount).where(UserAccount.email == email.strip().lower()))

    def user(self, *, user_id: int) -> UserAccount | None:
        with self.session() as s:
            return s.get(UserAccount, user_id)

    def set_password_hash(self, *, user_id: int, password_hash: str) -> None:
        with self.session() as s:
            s.execute(update(UserAccount).where(UserAccount.id == user_id).values(password_hash=password_hash))

    # organisations and memberships ------------------------------------------------------
    def create_organisation(self, *, slug: str, name: str) -> Organisation:
        with self.session() as s:
            if s.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
                raise StoreError(f"an organisation named {slug!r} exists already")
            org = Organisation(slug=slug, name=name, created_at=_now())
            s.add(org)
            s.flush()
            return org

    def add_member(self, *, user_id: int, organisation_id: int, role: str) -> Membership:
        """Give ``user_id`` the ``role`` in the organisation (changing the role when a member)."""
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        with self.session() as s:
            found = s.scalar(
                select(Membership).where(Membership.user_id == user_id, Membership.organisation_id == organisation_id)
            )
            if found is None:
                found = Membership(user_id=user_id, organisation_id=organisation_id, role=role, created_at=_now())
                s.add(found)
            else:
                found.role = role
            s.flush()
            return found

    def membership(self, *, user_id: int, organisation_slug: str) -> tuple[Organisation, str] | None:
        """The organisation ``organisation_slug`` and the user's role in it, or None when the
        user is not a member (or no such organisation exists: the caller cannot tell)."""
        with self.session() as s:
            row = s.execute(
                select(Organisation, Membership.role)
                .join(Membership, Membership.organisation_id == Organisation.id)
                .where(Organisation.slug == organisation_slug, Membership.user_id == user_id)
            ).first()
            return None if row is None else (row[0], str(row[1]))

    def organisations_of(self, *, user_id: int) -> list[tuple[Organisation, str]]:
        """The user's organisations with the role in each, by name."""
        with self.session() as s:
            rows = s.execute(
                select(Organisation, Membership.role)
                .join(Membership, Membership.organisation_id == Organisation.id)
                .where(Membership.user_id == user_id)
                .order_by(Organisation.name, Organisation.slug)
            ).all()
            return [(org, str(role)) for org, role in rows]

    def members(self, *, organisation_id: int) -> list[tuple[UserAccount, str]]:
        with self.session() as s:
            rows = s.execute(
                select(UserAccount, Membership.role)
                .join(Membership, Membership.user_id == UserAccount.id)
                .where(Membership.organisation_id == organisation_id)
                .order_by(UserAccount.email)
            ).all()
            return [(user, str(role)) for user, role in rows]

    # a tenant's patients and visits, always through the organisation id ------------------
    def patient_in(self, *, organisation_id: int, slug: str, create: bool = False) -> Patient | None:
        with self.session() as s:
            found = s.scalar(select(Patient).where(Patient.organisation_id == organisation_id, Patient.slug == slug))
            if found is None and create:
                found = Patient(organisation_id=organisation_id, slug=slug, name=slug, created_at=_now())
                s.add(found)
                s.flush()
            return found

    def patients_in(self, *, organisation_id: int) -> list[Patient]:
        with self.session() as s:
            return list(
                s.scalars(select(Patient).where(Patient.organisation_id == organisation_id).order_by(Patient.slug))
            )

    def visit_in(self, *, organisation_id: int, visit_id: str) -> tuple[Patient, Visit] | None:
        """A visit by id, only when its patient belongs to the organisation."""
        with self.session() as s:
            row = s.execute(
                select(Patient, Visit)
                .join(Visit, Visit.patient_id == Patient.id)
                .where(Patient.organisation_id == organisation_id, Visit.id == visit_id)
            ).first()
            return None if row is None else (row[0], row[1])

    def visit_ref_in(self, *, organisation_id: int, visit_id: str) -> tuple[Patient, datetime] | None:
        """A visit's patient and date, only when it belongs to the organisation, without
        loading its examination (pages that keep what they draw from it ask this first)."""
        with self.session() as s:
            row = s.execute(
                select(Patient, Visit.at)
                .join(Visit, Visit.patient_id == Patient.id)
                .where(Patient.organisation_id == organisation_id, Visit.id == visit_id)
            ).first()
            return None if row is None else (row[0], row[1])

    def visit_index(
        self, *, organisation_id: int, patient_id: int | None = None
    ) -> list[tuple[Patient, str, datetime]]:
        """The organisation's visits (or one patient's) as (patient, visit id, at), newest first,
        without loading the examinations (a listing page reads them from a cache)."""
        stmt = (
            select(Patient, Visit.id, Visit.at)
            .join(Visit, Visit.patient_id == Patient.id)
            .where(Patient.organisation_id == organisation_id)
        )
        if patient_id is not None:
            stmt = stmt.where(Patient.id == patient_id)
        with self.session() as s:
            rows = s.execute(stmt.order_by(Visit.at.desc(), Visit.id.desc())).all()
            return [(patient, str(visit_id), at) for patient, visit_id, at in rows]

    # login sessions ---------------------------------------------------------------------
    def create_login_session(
        self, *, user_id: int, token_hash: str, csrf_secret: str, expires_at: datetime
    ) -> LoginSession:
        row = LoginSession(
            user_id=user_id, token_hash=token_hash, csrf_secret=csrf_secret, created_at=_now(), expires_at=expires_at
        )
        with self.session() as s:
            s.add(row)
        return row

    def login_session(self, *, token_hash: str) -> tuple[LoginSession, UserAccount] | None:
        """The live session of ``token_hash`` with its user; an expired one is deleted."""
        with self.session() as s:
            row = s.execute(
                select(LoginSession, UserAccount)
                .join(UserAccount, UserAccount.id == LoginSession.user_id)
                .where(LoginSession.token_hash == token_hash)
            ).first()
            if row is None:
                return None
            if aware(row[0].expires_at) <= _now():
                s.execute(delete(LoginSession).where(LoginSession.id == row[0].id))
                return None
            return row[0], row[1]

    def delete_login_session(self, *, token_hash: str) -> None:
        with self.session() as s:
            s.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash))

    def delete_expired_login_sessions(self) -> int:
        with self.session() as s:
            done = s.execute(delete(LoginSession).where(LoginSession.expires_at <= _now()))
            return int(done.rowcount or 0)  # type: ignore[attr-defined]

    def delete_login_sessions_of(self, *, user_id: int) -> None:
        """Sign the user out everywhere (after a password change)."""
        with self.session() as s:
            s.execute(delete(LoginSession).where(LoginSession.user_id == user_id))

    # login attempts (throttling) --------------------------------------------------------
    def record_login_attempt(self, *, email: str, ip: str, succeeded: bool) -> None:
        with self.session() as s:
            s.add(LoginAttempt(email=email.strip().lower()[:320], ip=ip[:64], at=_now(), succeeded=succeeded))

    def failed_attempts(self, *, since: datetime, email: str | None = None, ip: str | None = None) -> list[datetime]:
        """The times of failed attempts since ``since`` for the account or the address, oldest first."""
        stmt = select(LoginAttempt.at).where(LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False))
        if email is not None:
            stmt = stmt.where(LoginAttempt.email == email.strip().lower())
        if ip is not None:
            stmt = stmt.where(LoginAttempt.ip == ip)
        with self.session() as s:
            return [aware(at) for at in s.scalars(stmt.order_by(LoginAttempt.at))]

    def forget_login_attempts(self, *, before: datetime) -> int:
        with self.session() as s:
            return int(s.execute(delete(LoginAttempt).where(LoginAttempt.at < before)).rowcount or 0)  # type: ignore[attr-defined]

    # one-time password links ------------------------------------------------------------
    def create_password_token(self, *, user_id: int, token_hash: str, expires_at: datetime) -> None:
        with self.session() as s:
            s.add(PasswordToken(token_hash=token_hash, user_id=user_id, created_at=_now(), expires_at=expires_at))

    def password_token_user(self, *, token_hash: str) -> UserAccount | None:
        """The user of a live (unused, unexpired) link, without using it."""
        with self.session() as s:
            row = s.execute(
                select(PasswordToken, UserAccount)
                .join(UserAccount, UserAccount.id == PasswordToken.user_id)
                .where(PasswordToken.token_hash == token_hash, PasswordToken.used_at.is_(None))
            ).first()
            if row is None or aware(row[0].expires_at) <= _now():
                return None
            return row[1]

    def use_password_token(self, *, token_hash: str) -> int | None:
        """Spend a live link once: the user id, or None when it is unknown, used or expired."""
        now = _now()
        with self.session() as s:
            token = s.scalar(select(PasswordToken).where(PasswordToken.token_hash == token_hash))
            if token is None or token.used_at is not None or aware(token.expires_at) <= now:
                return None
            done = s.execute(
                update(PasswordToken)
                .where(PasswordToken.id == token.id, PasswordToken.used_at.is_(None))
                .values(used_at=now)
            )
            return token.user_id if done.rowcount == 1 else None  # type: ignore[attr-defined]

    def count_users(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count(UserAccount.id))) or 0)
