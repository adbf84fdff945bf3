"""job notify: on PostgreSQL, a committed job insert notifies channel ``maillon_jobs``

Workers of other processes LISTEN on it (``node/wakeups.py``) and claim at once instead
of at their next poll. SQLite: nothing (its processes poll).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # once per statement, and PostgreSQL folds identical notifications of a transaction
    op.execute(
        """
        CREATE FUNCTION maillon_job_added() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('maillon_jobs', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER job_added AFTER INSERT ON job "
        "FOR EACH STATEMENT EXECUTE FUNCTION maillon_job_added()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS job_added ON job")
    op.execute("DROP FUNCTION IF EXISTS maillon_job_added()")
