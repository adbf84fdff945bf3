"""branding: the node's name, colours and logo, set by its administrators

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import node.dbtypes


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('territory', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('primary_colour', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True))
        batch_op.add_column(sa.Column('accent_colour', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True))
        batch_op.add_column(sa.Column('logo_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('logo_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    op.create_table('territorylogo',
    sa.Column('territory_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('data', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created', node.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], ),
    sa.PrimaryKeyConstraint('territory_id')
    )


def downgrade() -> None:
    op.drop_table('territorylogo')
    with op.batch_alter_table('territory', schema=None) as batch_op:
        batch_op.drop_column('logo_sha256')
        batch_op.drop_column('logo_type')
        batch_op.drop_column('accent_colour')
        batch_op.drop_column('primary_colour')
        batch_op.drop_column('node_name')
