"""the audit trail (issue 15): the table is common, the frozen common history creates it
(cet_shared/db/common_migrations, revision c004); this revision makes the service's history depend on it.

Revision ID: au01
Revises: rv01
Create Date: 2026-12-02
"""

revision = "au01"
down_revision = "rv01"
branch_labels = None
depends_on = "c004"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
