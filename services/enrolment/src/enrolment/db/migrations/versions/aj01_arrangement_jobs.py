"""arrangement (N13) as a resumable background job: the job and its frozen, ordered queue

Its own revision id, not the next number: the coordinator chains revisions added beside it.

Revision ID: aj01
Revises: pn01
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "aj01"
down_revision = "pn01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "arrangement_jobs",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("exam_session_id", UUID(as_uuid=True), nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="arrangement_status_valid"),
        sa.Column("total", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("arranged", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("frozen_campus", sa.CHAR(6)),
        sa.Column("frozen_subject", sa.Text),
        sa.Column("done_through", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("error", sa.Text),
        sa.Column("lease_token", UUID(as_uuid=True)),
        sa.Column("leased_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "arrangement_jobs_one_active", "arrangement_jobs", ["exam_session_id"], unique=True, postgresql_where=sa.text("status IN ('queued', 'running')")
    )
    op.create_index("arrangement_jobs_by_session", "arrangement_jobs", ["exam_session_id", "created_at"])
    op.create_table(
        "arrangement_queue",
        sa.Column("job_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("ordinal", sa.BigInteger, primary_key=True),
        sa.Column("enrolment_id", UUID(as_uuid=True), nullable=False),
        sa.Column("room", sa.Integer, nullable=False),
        sa.Column("seat", sa.Integer, nullable=False),
        sa.Column("ticket_number", sa.Text, nullable=False),
        sa.CheckConstraint("room BETWEEN 1 AND 999 AND seat BETWEEN 1 AND 99", name="arrangement_room_and_seat_fit"),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("arrangement_queue")
    op.drop_index("arrangement_jobs_by_session", "arrangement_jobs")
    op.drop_index("arrangement_jobs_one_active", "arrangement_jobs")
    op.drop_table("arrangement_jobs")
