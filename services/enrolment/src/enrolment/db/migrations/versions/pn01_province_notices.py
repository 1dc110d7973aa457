"""provincial notices (省通告) among the home page's items: kind 'province' with its province

Its own revision id, not the next number: other branches of the history add 000N beside it;
One linear history per service: it follows the revision named above.

Revision ID: pn01
Revises: au01
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "pn01"
down_revision = "au01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("news_items", sa.Column("province_code", sa.CHAR(2)))
    op.drop_constraint("news_kind_valid", "news_items", type_="check")
    op.create_check_constraint("news_kind_valid", "news_items", "kind IN ('news', 'notice', 'province')")
    op.create_check_constraint("news_province_only_for_province_notices", "news_items", "(kind = 'province') = (province_code IS NOT NULL)")


def downgrade() -> None:
    op.execute("DELETE FROM news_items WHERE kind = 'province'")
    op.drop_constraint("news_province_only_for_province_notices", "news_items", type_="check")
    op.drop_constraint("news_kind_valid", "news_items", type_="check")
    op.create_check_constraint("news_kind_valid", "news_items", "kind IN ('news', 'notice')")
    op.drop_column("news_items", "province_code")
