"""The web app's tables: accounts, memberships, login sessions and attempts, uploads, jobs.

They hang off the same ``Base`` as the workspace tables, so Alembic sees one metadata (the
migration environment imports this module). Every tenant row (upload, job) names its
organisation; the store's calls for them take the organisation id as a required argument.
Secrets are never stored in clear: passwords as Argon2 hashes, session and one-time tokens
as SHA-256 digests of the random value the browser holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from itsm_doctor.store.models import Base, JSONType

__all__ = [
    "JOB_STATUSES",
    "ROLES",
    "Job",
    "LoginAttempt",
    "LoginSession",
    "Membership",
    "PasswordToken",
    "Upload",
    "UserAccount",
]

# owner = the consultant (or the organisation's own lead): manages members, uploads, adopts;
# member = reads the patient's file; respondent = answers the questionnaire only.
ROLES = ("owner", "member", "respondent")
JOB_STATUSES = ("queued", "running", "done", "failed")


class UserAccount(Base):
    """A person who signs in. ``password_hash`` is None until an invited user sets one."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Membership(Base):
    """A user's role in one organisation: the only way to see its data."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", name="uq_membership_user_organisation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginSession(Base):
    """A signed-in browser: the cookie holds a random token, the table its SHA-256 digest."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """One sign-in attempt, for throttling per account and per address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    succeeded: Mapped[bool] = mapped_column(Boolean)


class PasswordToken(Base):
    """A one-time link to set a password (an invited member's first, or a reset)."""

    __tablename__ = "password_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Upload(Base):
    """An export file uploaded into an organisation, stored under the data folder."""

    __tablename__ = "upload"
    __table_args__ = (Index("ix_upload_organisation_created", "organisation_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(300))  # the name the browser gave (shown, never a path)
    stored_path: Mapped[str] = mapped_column(String(500))  # relative to the data folder
    size: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # csv | xlsx | xes | zip
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(40))  # proposed from the headers, or chosen
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Job(Base):
    """Background work (an examination) that survives restarts: queued → running → done | failed."""

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_organisation_created", "organisation_id", "created_at"),
        Index("ix_job_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"))
    runner: Mapped[str | None] = mapped_column(String(120))  # which process claimed it
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
