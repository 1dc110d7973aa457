"""dead letters and the events parked behind them (cet_shared.dead_letters)

Its own revision id, not the next number: another branch of the history may add 000N beside it;
`upgrade` goes to every head.

Revision ID: dl01
Revises: 0001
Create Date: 2026-12-01
"""

from alembic import op

from cet_shared.db.tables import create_dead_letter_tables, drop_dead_letter_tables

revision = "dl01"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_dead_letter_tables(op.get_bind())


def downgrade() -> None:
    drop_dead_letter_tables(op.get_bind())
