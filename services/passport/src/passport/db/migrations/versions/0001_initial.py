"""accounts, link tokens, mail queue

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY


revision = "0001"
down_revision = None
branch_labels = None
depends_on = "c001"  # the common outbox, inbox, captcha and rate-limit tables (cet_shared)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("passport_id", sa.CHAR(32), primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("email_normalised", sa.Text, nullable=False, unique=True),
        sa.Column("email_verified_at", sa.DateTime(timezone=True)),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("phone", sa.Text),
        sa.Column("id_type", sa.Text),
        sa.Column("id_number", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("roles", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{candidate}'")),
        sa.Column("school_code", sa.Text),
        sa.Column("token_version", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "link_tokens",
        sa.Column("token_hash", sa.CHAR(64), primary_key=True),
        sa.Column("passport_id", sa.CHAR(32), nullable=False, index=True),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "mail_queue",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("to_address", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("mail_queue_unsent", "mail_queue", ["id"], postgresql_where=sa.text("sent_at IS NULL"))


def downgrade() -> None:
    op.drop_table("mail_queue")
    op.drop_table("link_tokens")
    op.drop_table("accounts")
