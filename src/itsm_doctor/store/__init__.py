"""The workspace store: patients, immutable visits, answers and the improvement register.

SQLAlchemy 2 models with Alembic migrations; SQLite in the workspace by default,
PostgreSQL for a team server.
"""

from __future__ import annotations

from itsm_doctor.store.db import REGISTER_STATUSES, Store, StoreError, database_url, upgrade
from itsm_doctor.store.models import AnswerSet, Base, Organisation, Patient, RegisterEntry, Visit
from itsm_doctor.store.web_models import ROLES, Job, Membership, Upload, UserAccount

__all__ = [
    "REGISTER_STATUSES",
    "ROLES",
    "AnswerSet",
    "Base",
    "Job",
    "Membership",
    "Organisation",
    "Patient",
    "RegisterEntry",
    "Store",
    "StoreError",
    "Upload",
    "UserAccount",
    "Visit",
    "database_url",
    "upgrade",
]
