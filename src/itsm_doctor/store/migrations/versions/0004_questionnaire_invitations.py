"""The questionnaire's invitations: one-time links (token digests) for respondents, with
their draft answers until they submit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "questionnaire_invitation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id", ondelete="CASCADE"), nullable=False),
        sa.Column("respondent", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("draft", JSONType, nullable=False),
        sa.Column("answer_set_id", sa.Integer(), sa.ForeignKey("answer_set.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index(
        "ix_questionnaire_invitation_organisation_patient",
        "questionnaire_invitation",
        ["organisation_id", "patient_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_questionnaire_invitation_organisation_patient", table_name="questionnaire_invitation")
    op.drop_table("questionnaire_invitation")
