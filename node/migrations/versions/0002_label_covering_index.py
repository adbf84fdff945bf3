"""label: the theme/tag index covers entity_id, so list filters never read the table

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("label", schema=None) as batch_op:
        batch_op.drop_index("ix_label_value")
        batch_op.create_index(
            "ix_label_value", ["kind", "value", "entity_type", "entity_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("label", schema=None) as batch_op:
        batch_op.drop_index("ix_label_value")
        batch_op.create_index("ix_label_value", ["kind", "value", "entity_type"], unique=False)
