"""the home page's news and notices, written by operations, and their audit trail

Revision ID: 0004_news
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_news"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "news_items",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('news', 'notice')", name="news_kind_valid"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("news_by_publication", "news_items", ["publish_at"])
    op.create_table(
        "news_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("news_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor_passport_id", sa.Text(), nullable=False),
        sa.Column("item", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('created', 'updated', 'deleted')", name="news_action_valid"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_news_audit_news_id", "news_audit", ["news_id"])


def downgrade() -> None:
    op.drop_table("news_audit")
    op.drop_table("news_items")
