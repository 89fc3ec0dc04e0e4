"""Open a workspace store, migrate it to head, and read and write through typed calls.

SQLite file in the workspace by default (``WORKSPACE/itsm-doctor.db``); any SQLAlchemy URL
for a team server (``postgresql+psycopg://…``). Every read and write names the patient, and
a patient is looked up inside its organisation, so one organisation's data never shows in
another's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from itsm_doctor.store.accounts import AccountStore
from itsm_doctor.store.errors import StoreError
from itsm_doctor.store.jobs import JobStore
from itsm_doctor.store.models import AnswerSet, Organisation, Patient, RegisterEntry, Visit
from itsm_doctor.store.questionnaire import QuestionnaireStore

__all__ = ["REGISTER_STATUSES", "Store", "StoreError", "database_url", "upgrade"]

REGISTER_STATUSES = ("adopted", "in_progress", "done", "abandoned")
DEFAULT_ORGANISATION = "default"


def database_url(*, workspace: Path | None = None, database: str | None = None) -> str:
    """``database`` when given, else the SQLite file of the workspace."""
    if database:
        if database.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            return "postgresql+psycopg://" + database.removeprefix("postgresql://")
        return database
    if workspace is None:
        raise StoreError("give a workspace folder or a database URL")
    workspace.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(workspace / 'itsm-doctor.db').resolve()}"


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("itsm_doctor.store") / "migrations"))
    return cfg


def upgrade(engine: Engine, *, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision`` (default: head)."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _refuse_visit_updates(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, Visit) and session.is_modified(obj):
            raise StoreError(f"visit {obj.id} is immutable: record a new visit instead")


def _now() -> datetime:
    return datetime.now(UTC)


class Store(AccountStore, JobStore, QuestionnaireStore):
    """The workspace store. Use ``Store.open(workspace=…)`` or ``Store.open(database=url)``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        event.listen(self._sessions, "before_flush", _refuse_visit_updates)

    @classmethod
    def open(cls, *, workspace: Path | None = None, database: str | None = None) -> Store:
        """Open (and migrate) the store; a StoreError names the setting when it cannot be."""
        where = "--database" if database else f"the workspace store in {workspace}"
        try:
            url = database_url(workspace=workspace, database=database)
        except OSError as exc:
            raise StoreError(f"{where}: the workspace folder cannot be made ({exc.strerror or exc})") from exc
        try:
            engine = create_engine(url)
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
            shown = _shown(url)
            raise StoreError(
                f"{where} {shown}: not a database URL this installation can open ({exc}); "
                "give sqlite:///FILE or postgresql://USER@HOST/DB"
            ) from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_foreign_keys)
        try:
            upgrade(engine)
        except (SQLAlchemyError, OSError) as exc:
            engine.dispose()
            first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreError(f"{where} {_shown(url)}: the store cannot be opened ({first})") from exc
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as s:
            yield s

    # patients -----------------------------------------------------------------------------
    def patient(self, *, slug: str, name: str | None = None, organisation: str = DEFAULT_ORGANISATION) -> Patient:
        """The patient ``slug`` of ``organisation``, created (with its organisation) when new."""
        with self.session() as s:
            org = s.scalar(select(Organisation).where(Organisation.slug == organisation))
            if org is None:
                org = Organisation(slug=organisation, name=organisation, created_at=_now())
                s.add(org)
                s.flush()
            found = s.scalar(select(Patient).where(Patient.organisation_id == org.id, Patient.slug == slug))
            if found is None:
                found = Patient(organisation_id=org.id, slug=slug, name=name or slug, created_at=_now())
                s.add(found)
                s.flush()
            return found

    def patients(self, *, organisation: str) -> list[Patient]:
        with self.session() as s:
            stmt = select(Patient).join(Organisation).where(Organisation.slug == organisation).order_by(Patient.slug)
            return list(s.scalars(stmt))

    def every_patient(self) -> list[tuple[str, Patient]]:
        """Every patient in the store with its organisation's slug, sorted; creates nothing
        (commands use it to find the one patient of a workspace, or to list the choices)."""
        with self.session() as s:
            stmt = select(Organisation.slug, Patient).join(Organisation).order_by(Organisation.slug, Patient.slug)
            return [(str(org), patient) for org, patient in s.execute(stmt).all()]

    # visits -------------------------------------------------------------------------------
    def record_visit(
        self,
        *,
        patient: Patient,
        examination: dict[str, Any],
        fingerprints: Sequence[str],
        at: datetime | None = None,
        period: tuple[datetime | None, datetime | None] = (None, None),
        visit_id: str | None = None,
    ) -> Visit:
        """Store one examination as a new, immutable visit."""
        visit = Visit(
            id=visit_id or uuid.uuid4().hex,
            patient_id=patient.id,
            at=at or _now(),
            period_from=period[0],
            period_to=period[1],
            schema=str(examination.get("schema", "")),
            examination=examination,
            fingerprints=list(fingerprints),
        )
        with self.session() as s:
            s.add(visit)
        return visit

    def visits(self, *, patient: Patient) -> list[Visit]:
        """The patient's visits, oldest first."""
        with self.session() as s:
            stmt = select(Visit).where(Visit.patient_id == patient.id).order_by(Visit.at, Visit.id)
            return list(s.scalars(stmt))

    def visit(self, *, patient: Patient, visit_id: str) -> Visit:
        with self.session() as s:
            found = s.scalar(select(Visit).where(Visit.patient_id == patient.id, Visit.id == visit_id))
        if found is None:
            raise StoreError(f"patient {patient.slug!r} has no visit {visit_id!r}")
        return found

    # answers ------------------------------------------------------------------------------
    def save_answers(
        self, *, patient: Patient, respondent: str, role: str, answers: dict[str, Any], at: datetime | None = None
    ) -> AnswerSet:
        row = AnswerSet(
            patient_id=patient.id, respondent=respondent, role=role, answered_at=at or _now(), answers=answers
        )
        with self.session() as s:
            s.add(row)
        return row

    def answers(self, *, patient: Patient) -> list[AnswerSet]:
        with self.session() as s:
            stmt = select(AnswerSet).where(AnswerSet.patient_id == patient.id).order_by(AnswerSet.answered_at)
            return list(s.scalars(stmt))

    # register -----------------------------------------------------------------------------
    def adopt(
        self,
        *,
        patient: Patient,
        prescription_id: str,
        dysfunction_id: str,
        title: str,
        owner: str,
        sphere: str,
        target_signs: Sequence[dict[str, str]],
        adopted_on: date,
        cause_id: str | None = None,
        follow_up_days: int | None = None,
        visit_id: str | None = None,
        note: str | None = None,
        groups: Sequence[str] = (),
    ) -> RegisterEntry:
        """Put a prescription in the improvement register; ``groups`` are the records' group
        ids a team-sphere prescription changes (the follow-up compares them with the others)."""
        entry = RegisterEntry(
            patient_id=patient.id,
            prescription_id=prescription_id,
            dysfunction_id=dysfunction_id,
            cause_id=cause_id,
            title=title,
            owner=owner,
            sphere=sphere,
            status="adopted",
            adopted_on=adopted_on,
            started_on=None,
            completed_on=None,
            follow_up_days=follow_up_days,
            target_signs=list(target_signs),
            visit_id=visit_id,
            note=note,
            groups=list(groups) or None,
        )
        with self.session() as s:
            s.add(entry)
        return entry

    def set_status(self, *, patient: Patient, entry_id: int, status: str, on: date) -> RegisterEntry:
        if status not in REGISTER_STATUSES:
            raise StoreError(f"unknown register status {status!r}; use one of {', '.join(REGISTER_STATUSES)}")
        with self.session() as s:
            entry = s.scalar(
                select(RegisterEntry).where(RegisterEntry.patient_id == patient.id, RegisterEntry.id == entry_id)
            )
            if entry is None:
                raise StoreError(f"patient {patient.slug!r} has no register entry {entry_id}")
            entry.status = status
            if status == "in_progress" and entry.started_on is None:
                entry.started_on = on
            if status in ("done", "abandoned"):
                entry.completed_on = on
            return entry

    def register(self, *, patient: Patient) -> list[RegisterEntry]:
        with self.session() as s:
            stmt = (
                select(RegisterEntry)
                .where(RegisterEntry.patient_id == patient.id)
                .order_by(RegisterEntry.adopted_on, RegisterEntry.id)
            )
            return list(s.scalars(stmt))


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
