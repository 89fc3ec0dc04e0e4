"""The questionnaire's invitations: one-time links for respondents who have no account.

An invitation names its organisation, its patient and the respondent's role (the roles of
``assessment.answers``). The link carries a random token; the table keeps only its SHA-256
digest. The respondent's draft is kept here (``draft``) until they submit: then one
``AnswerSet`` is written, ``submitted_at`` is set and the link is used up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from itsm_doctor.store.models import Base, JSONType

__all__ = ["Invitation"]


class Invitation(Base):
    """A respondent's one-time link to the questionnaire about one patient, for one role."""

    __tablename__ = "questionnaire_invitation"
    __table_args__ = (Index("ix_questionnaire_invitation_organisation_patient", "organisation_id", "patient_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    respondent: Mapped[str] = mapped_column(String(200))  # the name or alias the owner gave
    role: Mapped[str] = mapped_column(String(40))  # agent | team_lead | process_owner | manager | customer
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # first draft saved
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    draft: Mapped[dict[str, Any]] = mapped_column(JSONType)  # question id -> bool | 1..5
    answer_set_id: Mapped[int | None] = mapped_column(ForeignKey("answer_set.id", ondelete="SET NULL"))
