"""refresh tokens: sessions renewed without a password hash (issue 11, log-in at the peak)

Its own revision id, not the next number: other branches of the history add revisions beside it;
One linear history per service: it follows the revision named above.

Revision ID: rt01
Revises: au01
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "rt01"
down_revision = "au01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.CHAR(64), primary_key=True),
        sa.Column("family_id", sa.CHAR(32), nullable=False, index=True),
        sa.Column("passport_id", sa.CHAR(32), nullable=False, index=True),
        sa.Column("token_version", sa.Integer, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("access_token_id", sa.Text, nullable=False),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("refresh_tokens")
