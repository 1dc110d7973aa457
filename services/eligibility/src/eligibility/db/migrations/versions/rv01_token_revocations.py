"""revoked access tokens, the projection every token verifier consults (cet_shared.revocations)

The table is common: the frozen common history creates it (cet_shared/db/common_migrations,
revision c003); this revision only makes the service's history depend on it.

Revision ID: rv01
Revises: 0001
Create Date: 2026-12-01
"""

revision = "rv01"
down_revision = "0001"
branch_labels = None
depends_on = "c003"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
