"""The workspace store's tables: organisations, patients, visits, answers and the register.

One organisation's patients, visits, answers and register never mix with another's: every
row hangs off a patient, and every patient off an organisation; the store's queries always
filter by the patient they were given.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ["AnswerSet", "Base", "Organisation", "Patient", "RegisterEntry", "Visit"]

JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    """A client of a consultant, or the user's own company: the unit of data isolation."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    patients: Mapped[list[Patient]] = relationship(back_populates="organisation")


class Patient(Base):
    """One IT service provider (or part of one) being examined."""

    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("organisation_id", "slug", name="uq_patient_organisation_slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation] = relationship(back_populates="patients")


class Visit(Base):
    """One dated examination of a patient. Immutable once written (the store refuses updates)."""

    __tablename__ = "visit"
    __table_args__ = (Index("ix_visit_patient_at", "patient_id", "at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    period_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    schema: Mapped[str] = mapped_column(String(60))
    examination: Mapped[dict[str, Any]] = mapped_column(JSONType)
    fingerprints: Mapped[list[str]] = mapped_column(JSONType)


class AnswerSet(Base):
    """One respondent's answers to the questionnaire (maturity criteria and symptom statements)."""

    __tablename__ = "answer_set"
    __table_args__ = (Index("ix_answer_set_patient", "patient_id", "answered_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    respondent: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType)


class RegisterEntry(Base):
    """A prescription the patient adopted: the improvement register."""

    __tablename__ = "register_entry"
    __table_args__ = (Index("ix_register_patient_status", "patient_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    prescription_id: Mapped[str] = mapped_column(String(120))
    dysfunction_id: Mapped[str] = mapped_column(String(120))
    cause_id: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(200))
    sphere: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    adopted_on: Mapped[date] = mapped_column(Date)
    started_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    follow_up_days: Mapped[int | None] = mapped_column(Integer)
    target_signs: Mapped[list[dict[str, str]]] = mapped_column(JSONType)
    # a team-sphere prescription's groups (group ids of the records); the follow-up's control is the others
    groups: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
