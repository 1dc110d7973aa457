"""the audit trail (issue 15): the table is common, the frozen common history creates it
(cet_shared/db/common_migrations, revision c004); this revision makes the service's history depend on it.
The rows of `rebind_audit` (E12, the only trail before) are copied in as `registration.rebound`;
rebinding keeps writing both.

Revision ID: au01
Revises: rv01
Create Date: 2026-12-02
"""

from alembic import op

revision = "au01"
down_revision = "rv01"
branch_labels = None
depends_on = "c004"


def upgrade() -> None:
    op.execute(
        """INSERT INTO audit_log (at, actor_id, actor_role, kind, subject_type, subject_id, before, after)
        SELECT rebound_at, actor_passport_id, 'support', 'registration.rebound', 'registration', registration_id::text,
               jsonb_build_object('passport_id', old_passport_id),
               jsonb_build_object('passport_id', new_passport_id, 'reason', reason)
        FROM rebind_audit ORDER BY id"""
    )


def downgrade() -> None:
    pass
