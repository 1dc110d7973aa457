"""revoked access tokens, the projection every token verifier consults (cet_shared.revocations)

The table is common: the frozen common history creates it (cet_shared/db/common_migrations,
revision c003); this revision only makes the service's history depend on it. It follows the service's
numbered revisions, so the history has one head (`<svc>-admin revision` follows it).

Revision ID: rv01
Revises: dl01
Create Date: 2026-12-01
"""

revision = "rv01"
down_revision = "dl01"
branch_labels = None
depends_on = "c003"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
