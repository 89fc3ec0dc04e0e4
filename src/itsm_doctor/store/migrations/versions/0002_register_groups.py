"""Register entries name the groups a team-sphere prescription changes (the follow-up's
treated groups; the others are its control).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("register_entry") as batch:
        batch.add_column(sa.Column("groups", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("register_entry") as batch:
        batch.drop_column("groups")
