"""remote follows and joins: a follow's state and Follow id, a membership's Join id, an
organisation's join mode

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows keep today's meaning: follows are accepted (all were of local
    # organisations), organisations accept members on approval (restricted).
    with op.batch_alter_table("follow", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "state",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="accepted",
            )
        )
        batch_op.add_column(
            sa.Column("activity_id", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_follow_activity_id"), ["activity_id"], unique=False)
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("activity_id", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "join_mode",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="restricted",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("join_mode")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_column("activity_id")
    with op.batch_alter_table("follow", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_activity_id"))
        batch_op.drop_column("activity_id")
        batch_op.drop_column("state")
