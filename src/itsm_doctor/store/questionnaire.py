"""The store's calls for the questionnaire's invitations and the consultant's portfolio.

Invitations: the owner's calls take the organisation id (an invitation of another
organisation is not found); the respondent's calls take the digest of the link's token and
only act on a live invitation (not submitted, not withdrawn, not expired at ``now``).
Submitting is one transaction: the invitation is used up by a conditional update and the
``AnswerSet`` is written, so a link raced twice stores one answer set.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from itsm_doctor.store.errors import StoreError
from itsm_doctor.store.models import AnswerSet, Organisation, Patient, RegisterEntry, Visit
from itsm_doctor.store.questionnaire_models import Invitation
from itsm_doctor.store.web_models import Membership

__all__ = ["InvitationState", "PatientRecord", "QuestionnaireStore", "invitation_state"]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


InvitationState = str  # "invited" | "started" | "submitted" | "expired" | "withdrawn"


def invitation_state(invitation: Invitation, *, now: datetime) -> InvitationState:
    """Where an invitation stands at ``now``: submitted and withdrawn first, then expired."""
    if invitation.submitted_at is not None:
        return "submitted"
    if invitation.withdrawn_at is not None:
        return "withdrawn"
    if _aware(invitation.expires_at) <= now:
        return "expired"
    return "started" if invitation.started_at is not None else "invited"


@dataclass(frozen=True, kw_only=True)
class PatientRecord:
    """What the portfolio needs of one patient: its organisation, its visits' dates, the
    latest visit's id (its examination is read with ``examinations_in``), and its register."""

    organisation_id: int
    organisation_slug: str
    organisation_name: str
    patient: Patient
    visit_times: tuple[datetime, ...]
    latest_visit_id: str | None
    register: tuple[RegisterEntry, ...]


class QuestionnaireStore:
    """Mixed into ``Store``: invitations (scoped by organisation or by token digest) and the
    portfolio's reads (scoped by the organisations the caller may see)."""

    if TYPE_CHECKING:

        def session(self) -> AbstractContextManager[Session]: ...

    # the owner's calls --------------------------------------------------------------------
    def create_invitation(
        self,
        *,
        organisation_id: int,
        patient_id: int,
        respondent: str,
        role: str,
        token_hash: str,
        expires_at: datetime,
        created_by: int | None,
    ) -> Invitation:
        """A new invitation for a patient of the organisation (a StoreError when it is not one)."""
        with self.session() as s:
            owned = s.scalar(
                select(Patient.id).where(Patient.id == patient_id, Patient.organisation_id == organisation_id)
            )
            if owned is None:
                raise StoreError(f"organisation {organisation_id} has no patient {patient_id}")
            row = Invitation(
                organisation_id=organisation_id,
                patient_id=patient_id,
                respondent=respondent,
                role=role,
                token_hash=token_hash,
                created_by=created_by,
                created_at=_now(),
                expires_at=expires_at,
                draft={},
            )
            s.add(row)
            s.flush()
            return row

    def invitations(self, *, organisation_id: int, patient_id: int | None = None) -> list[Invitation]:
        """The organisation's invitations (of one patient when given), newest first."""
        stmt = select(Invitation).where(Invitation.organisation_id == organisation_id)
        if patient_id is not None:
            stmt = stmt.where(Invitation.patient_id == patient_id)
        with self.session() as s:
            return list(s.scalars(stmt.order_by(Invitation.created_at.desc(), Invitation.id.desc())))

    def withdraw_invitation(self, *, organisation_id: int, invitation_id: int, now: datetime | None = None) -> bool:
        """Withdraw a live invitation of the organisation; False when there is none to withdraw."""
        with self.session() as s:
            done = s.execute(
                update(Invitation)
                .where(
                    Invitation.organisation_id == organisation_id,
                    Invitation.id == invitation_id,
                    Invitation.submitted_at.is_(None),
                    Invitation.withdrawn_at.is_(None),
                )
                .values(withdrawn_at=now or _now())
            )
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def answer_sets_in(self, *, organisation_id: int, patient_id: int) -> list[AnswerSet]:
        """The patient's answer sets, only when the patient belongs to the organisation."""
        with self.session() as s:
            stmt = (
                select(AnswerSet)
                .join(Patient, Patient.id == AnswerSet.patient_id)
                .where(Patient.organisation_id == organisation_id, Patient.id == patient_id)
                .order_by(AnswerSet.answered_at, AnswerSet.id)
            )
            return list(s.scalars(stmt))

    def visit_ids_in(self, *, organisation_id: int, patient_id: int) -> list[str]:
        """The patient's visit ids, oldest first, only when the patient belongs to the organisation."""
        with self.session() as s:
            stmt = (
                select(Visit.id)
                .join(Patient, Patient.id == Visit.patient_id)
                .where(Patient.organisation_id == organisation_id, Patient.id == patient_id)
                .order_by(Visit.at, Visit.id)
            )
            return [str(v) for v in s.scalars(stmt)]

    # the respondent's calls (by the digest of the link's token) ---------------------------
    def invitation_by_token(self, *, token_hash: str) -> tuple[Invitation, Patient] | None:
        """The invitation of the digest with its patient, whatever its state (None: unknown)."""
        with self.session() as s:
            row = s.execute(
                select(Invitation, Patient)
                .join(Patient, Patient.id == Invitation.patient_id)
                .where(Invitation.token_hash == token_hash)
            ).first()
            return None if row is None else (row[0], row[1])

    def save_draft(self, *, token_hash: str, answers: dict[str, Any], now: datetime | None = None) -> bool:
        """Keep the respondent's answers so far; False when the link is no longer live."""
        now = now or _now()
        with self.session() as s:
            found = s.scalar(select(Invitation).where(Invitation.token_hash == token_hash))
            if found is None or invitation_state(found, now=now) not in ("invited", "started"):
                return False
            found.draft = dict(answers)
            if found.started_at is None:
                found.started_at = now
            return True

    def submit_invitation(
        self, *, token_hash: str, answers: dict[str, Any], now: datetime | None = None
    ) -> AnswerSet | None:
        """Store the answers as the respondent's ``AnswerSet`` and use the link up; None when
        it is unknown, used, withdrawn or expired (nothing is written then)."""
        now = now or _now()
        with self.session() as s:
            found = s.scalar(select(Invitation).where(Invitation.token_hash == token_hash))
            if found is None or invitation_state(found, now=now) not in ("invited", "started"):
                return None
            spent = s.execute(
                update(Invitation)
                .where(Invitation.id == found.id, Invitation.submitted_at.is_(None))
                .values(submitted_at=now, started_at=found.started_at or now, draft={})
            )
            if spent.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = AnswerSet(
                patient_id=found.patient_id,
                respondent=found.respondent,
                role=found.role,
                answered_at=now,
                answers=dict(answers),
            )
            s.add(row)
            s.flush()
            s.execute(update(Invitation).where(Invitation.id == found.id).values(answer_set_id=row.id))
            return row

    # the portfolio's reads ----------------------------------------------------------------
    def owned_organisation_ids(self, *, user_id: int) -> list[int]:
        with self.session() as s:
            stmt = select(Membership.organisation_id).where(Membership.user_id == user_id, Membership.role == "owner")
            return sorted(int(i) for i in s.scalars(stmt))

    def peer_organisation_ids(self, *, organisation_id: int) -> list[int]:
        """The organisations owned by the owners of ``organisation_id`` (itself included): the
        consultant's portfolio its patients are compared with."""
        with self.session() as s:
            owners = select(Membership.user_id).where(
                Membership.organisation_id == organisation_id, Membership.role == "owner"
            )
            stmt = select(Membership.organisation_id).where(Membership.user_id.in_(owners), Membership.role == "owner")
            return sorted({organisation_id, *(int(i) for i in s.scalars(stmt))})

    def patient_records(self, *, organisation_ids: Sequence[int]) -> list[PatientRecord]:
        """Every patient of the organisations, with what the portfolio reads, by organisation
        name then patient slug."""
        if not organisation_ids:
            return []
        with self.session() as s:
            rows = s.execute(
                select(Organisation, Patient)
                .join(Patient, Patient.organisation_id == Organisation.id)
                .where(Organisation.id.in_(list(organisation_ids)))
                .order_by(Organisation.name, Organisation.slug, Patient.slug)
            ).all()
            ids = [p.id for _, p in rows]
            times: dict[int, list[datetime]] = {}
            for pid, at in s.execute(
                select(Visit.patient_id, Visit.at).where(Visit.patient_id.in_(ids)).order_by(Visit.at, Visit.id)
            ):
                times.setdefault(int(pid), []).append(_aware(at))
            latest: dict[int, str] = {}
            for pid, vid in s.execute(
                select(Visit.patient_id, Visit.id).where(Visit.patient_id.in_(ids)).order_by(Visit.at, Visit.id)
            ):
                latest[int(pid)] = str(vid)  # ordered by time: the last one wins
            register: dict[int, list[RegisterEntry]] = {}
            for entry in s.scalars(
                select(RegisterEntry)
                .where(RegisterEntry.patient_id.in_(ids))
                .order_by(RegisterEntry.adopted_on, RegisterEntry.id)
            ):
                register.setdefault(entry.patient_id, []).append(entry)
            return [
                PatientRecord(
                    organisation_id=org.id,
                    organisation_slug=org.slug,
                    organisation_name=org.name,
                    patient=p,
                    visit_times=tuple(times.get(p.id, ())),
                    latest_visit_id=latest.get(p.id),
                    register=tuple(register.get(p.id, ())),
                )
                for org, p in rows
            ]

    def examinations_in(
        self, *, organisation_ids: Sequence[int], visit_ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """The examinations of the visits, only those whose patient belongs to one of the organisations."""
        if not organisation_ids or not visit_ids:
            return {}
        with self.session() as s:
            rows = s.execute(
                select(Visit.id, Visit.examination)
                .join(Patient, Patient.id == Visit.patient_id)
                .where(Patient.organisation_id.in_(list(organisation_ids)), Visit.id.in_(list(visit_ids)))
            )
            return {str(vid): exam for vid, exam in rows}
