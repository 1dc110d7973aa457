"""dead letters and the events parked behind them (cet_shared.dead_letters)

The table is common: the frozen common history creates it (cet_shared/db/common_migrations,
revision c002); this revision only makes the service's history depend on it. It follows the service's
numbered revisions, so the history has one head (`<svc>-admin revision` follows it).

Revision ID: dl01
Revises: 0001
Create Date: 2026-12-01
"""

revision = "dl01"
down_revision = "0001"
branch_labels = None
depends_on = "c002"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
