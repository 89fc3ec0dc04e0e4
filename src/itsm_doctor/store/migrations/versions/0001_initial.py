"""Initial store: organisations, patients, visits, answers, improvement register.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(80), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("slug", sa.String(80), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organisation_id", "slug", name="uq_patient_organisation_slug"),
    )
    op.create_index("ix_patient_organisation_id", "patient", ["organisation_id"])
    op.create_table(
        "visit",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("schema", sa.String(60), nullable=False),
        sa.Column("examination", JSONType, nullable=False),
        sa.Column("fingerprints", JSONType, nullable=False),
    )
    op.create_index("ix_visit_patient_at", "visit", ["patient_id", "at"])
    op.create_table(
        "answer_set",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id", ondelete="CASCADE"), nullable=False),
        sa.Column("respondent", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answers", JSONType, nullable=False),
    )
    op.create_index("ix_answer_set_patient", "answer_set", ["patient_id", "answered_at"])
    op.create_table(
        "register_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id", ondelete="CASCADE"), nullable=False),
        sa.Column("prescription_id", sa.String(120), nullable=False),
        sa.Column("dysfunction_id", sa.String(120), nullable=False),
        sa.Column("cause_id", sa.String(120), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("sphere", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("adopted_on", sa.Date(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("follow_up_days", sa.Integer(), nullable=True),
        sa.Column("target_signs", JSONType, nullable=False),
        sa.Column("visit_id", sa.String(40), sa.ForeignKey("visit.id", ondelete="SET NULL"), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_register_patient_status", "register_entry", ["patient_id", "status"])


def downgrade() -> None:
    for index, table in (
        ("ix_register_patient_status", "register_entry"),
        ("ix_answer_set_patient", "answer_set"),
        ("ix_visit_patient_at", "visit"),
        ("ix_patient_organisation_id", "patient"),
    ):
        op.drop_index(index, table_name=table)
    for table in ("register_entry", "answer_set", "visit", "patient", "organisation"):
        op.drop_table(table)
