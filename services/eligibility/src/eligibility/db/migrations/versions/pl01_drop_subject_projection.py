"""E9's timer moved to enrolment, which owns the subjects: eligibility no longer projects every
subject change, so its projection of registrations' subjects goes.

Revision ID: pl01
Revises: ij01
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "pl01"
down_revision = "ij01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f("ix_registration_subjects_registration_id"), table_name="registration_subjects")
    op.drop_table("registration_subjects")


def downgrade() -> None:
    op.create_table(
        "registration_subjects",
        sa.Column("enrolment_id", sa.UUID(), nullable=False),
        sa.Column("registration_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("enrolment_id"),
    )
    op.create_index(op.f("ix_registration_subjects_registration_id"), "registration_subjects", ["registration_id"], unique=False)
