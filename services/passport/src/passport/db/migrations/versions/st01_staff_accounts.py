"""staff accounts managed from the console: scopes, disabling, last log-in, TOTP and recovery codes

Its own revision id, not the next number: other branches of the history add 000N beside it;
One linear history per service: it follows the revision named above.

Revision ID: st01
Revises: rt01
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "st01"
down_revision = "rt01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("passport_id", sa.CHAR(32), sa.ForeignKey("accounts.passport_id"), primary_key=True),
        sa.Column("province_code", sa.CHAR(2)),
        sa.Column("created_by", sa.CHAR(32)),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
        sa.Column("disabled_by", sa.CHAR(32)),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column("last_login_address", sa.Text()),
        sa.Column("totp_secret", sa.Text()),
        sa.Column("totp_confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("totp_last_step", sa.BigInteger()),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("passport_id", sa.CHAR(32), sa.ForeignKey("accounts.passport_id"), primary_key=True),
        sa.Column("code_hash", sa.CHAR(64), primary_key=True),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "staff_login_challenges",
        sa.Column("token_hash", sa.CHAR(64), primary_key=True),
        sa.Column("passport_id", sa.CHAR(32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.create_index("ix_staff_login_challenges_passport_id", "staff_login_challenges", ["passport_id"])


def downgrade() -> None:
    op.drop_table("staff_login_challenges")
    op.drop_table("staff_recovery_codes")
    op.drop_table("staff_accounts")
