"""revoked access tokens, the projection every token verifier consults (cet_shared.revocations)

Its own revision id, not the next number: other branches of the history add 000N beside it;
`upgrade` goes to every head.

Revision ID: rv01
Revises: 0001
Create Date: 2026-12-01
"""

from alembic import op

from cet_shared.db.tables import create_revocation_table, drop_revocation_table

revision = "rv01"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_revocation_table(op.get_bind())


def downgrade() -> None:
    drop_revocation_table(op.get_bind())
