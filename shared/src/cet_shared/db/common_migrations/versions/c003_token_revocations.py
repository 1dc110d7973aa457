"""revoked access tokens, the projection every token verifier consults (cet_shared.revocations)

Revision ID: c003
Revises: c002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "c003"
down_revision = "c002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_revocations",
        sa.Column("seq", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("passport_id", sa.Text(), nullable=False),
        sa.Column("token_version_below", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("token_revocations_recorded", "token_revocations", ["recorded_at"])
    op.create_index("token_revocations_expiry", "token_revocations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("token_revocations_expiry", table_name="token_revocations")
    op.drop_index("token_revocations_recorded", table_name="token_revocations")
    op.drop_table("token_revocations")
