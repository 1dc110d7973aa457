"""exam sessions, offerings, notices, registrations projection, enrolments, waiting list, payments, refunds

Revision ID: 0001
Revises:
Create Date: 2026-11-27 07:50:47.277428
"""

from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = "c001"  # the common outbox, inbox, captcha and rate-limit tables (cet_shared)


def upgrade() -> None:
    op.create_table(
        "exam_sessions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("half", sa.Integer(), nullable=False),
        sa.Column("registration_opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registration_closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_exam_date", sa.Date(), nullable=True),
        sa.Column("oral_exam_dates", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("written_tickets_opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("written_tickets_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("oral_tickets_opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("oral_tickets_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arranged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "payments",
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("registration_id", sa.UUID(), nullable=False),
        sa.Column("enrolment_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "refunds",
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("registration_id", sa.UUID(), nullable=False),
        sa.Column("enrolment_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_amount_fen", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "registrations",
        sa.Column("registration_id", sa.UUID(), nullable=False),
        sa.Column("exam_session_id", sa.UUID(), nullable=False),
        sa.Column("passport_id", sa.Text(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("province_code", sa.Text(), nullable=False),
        sa.Column("school_code", sa.Text(), nullable=False),
        sa.Column("campus_code", sa.Text(), nullable=False),
        sa.Column("qualification_subjects", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notices_acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("registration_id"),
    )
    op.create_index("registrations_by_passport", "registrations", ["passport_id", "bound_at"], unique=False)
    op.create_table(
        "notices",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("exam_session_id", sa.UUID(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("province_code", sa.CHAR(length=2), nullable=True),
        sa.Column("school_code", sa.CHAR(length=5), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["exam_session_id"],
            ["exam_sessions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "offerings",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("exam_session_id", sa.UUID(), nullable=False),
        sa.Column("subject_code", sa.Text(), nullable=False),
        sa.Column("province_code", sa.CHAR(length=2), nullable=False),
        sa.Column("school_code", sa.CHAR(length=5), nullable=False),
        sa.Column("school_name", sa.Text(), nullable=False),
        sa.Column("campus_code", sa.CHAR(length=6), nullable=False),
        sa.Column("campus_name", sa.Text(), nullable=False),
        sa.Column("fee_fen", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepts_other_schools", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("(capacity IS NULL) = (remaining IS NULL)", name="capacity_and_remaining"),
        sa.CheckConstraint("remaining IS NULL OR (remaining >= 0 AND remaining <= capacity)", name="remaining_in_range"),
        sa.ForeignKeyConstraint(
            ["exam_session_id"],
            ["exam_sessions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exam_session_id", "subject_code", "campus_code", name="one_offering_per_campus_subject"),
    )
    op.create_index("offerings_by_province", "offerings", ["exam_session_id", "subject_code", "province_code"], unique=False)
    op.create_table(
        "school_oral_settings",
        sa.Column("exam_session_id", sa.UUID(), nullable=False),
        sa.Column("school_code", sa.CHAR(length=5), nullable=False),
        sa.Column("allow_other_schools", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("allowed_campus_codes", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["exam_session_id"],
            ["exam_sessions.id"],
        ),
        sa.PrimaryKeyConstraint("exam_session_id", "school_code"),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("registration_id", sa.UUID(), nullable=False),
        sa.Column("exam_session_id", sa.UUID(), nullable=False),
        sa.Column("offering_id", sa.UUID(), nullable=False),
        sa.Column("subject_code", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("fee_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("seat_held", sa.Boolean(), nullable=False),
        sa.Column("method", sa.Text(), server_default=sa.text("'candidate'"), nullable=False),
        sa.Column("locked", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("room", sa.Integer(), nullable=True),
        sa.Column("seat", sa.Integer(), nullable=True),
        sa.Column("ticket_number", sa.Text(), nullable=True),
        sa.Column("arranged_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('held', 'paid') = seat_held", name="seat_held_while_active"),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offerings.id"],
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.registration_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_number"),
    )
    op.create_index("enrolments_by_offering", "enrolments", ["offering_id"], unique=False)
    op.create_index("enrolments_by_registration", "enrolments", ["registration_id"], unique=False)
    op.create_index("enrolments_held_by_expiry", "enrolments", ["expires_at"], unique=False, postgresql_where=sa.text("status = 'held'"))
    op.create_index(
        "one_active_per_level", "enrolments", ["registration_id", "kind", "level"], unique=True, postgresql_where=sa.text("status IN ('held', 'paid')")
    )
    op.create_table(
        "waitlist",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("offering_id", sa.UUID(), nullable=False),
        sa.Column("registration_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("enrolment_id", sa.UUID(), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offerings.id"],
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.registration_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("one_waiting_per_offering", "waitlist", ["offering_id", "registration_id"], unique=True, postgresql_where=sa.text("status = 'waiting'"))

    op.create_check_constraint("half_valid", "exam_sessions", "half IN (1, 2)")
    op.create_check_constraint("fee_not_negative", "offerings", "fee_fen IS NULL OR fee_fen >= 0")
    op.create_check_constraint("scope_valid", "notices", "scope IN ('registration_notes', 'province', 'school')")
    op.create_check_constraint("kind_valid", "enrolments", "kind IN ('written', 'oral')")
    op.create_check_constraint("status_valid", "enrolments", "status IN ('held', 'paid', 'cancelled', 'expired')")
    op.create_check_constraint("method_valid", "enrolments", "method IN ('candidate', 'school')")
    op.create_check_constraint("waitlist_status_valid", "waitlist", "status IN ('waiting', 'promoted', 'left')")


def downgrade() -> None:
    op.drop_index("one_waiting_per_offering", table_name="waitlist", postgresql_where=sa.text("status = 'waiting'"))
    op.drop_table("waitlist")
    op.drop_index("one_active_per_level", table_name="enrolments", postgresql_where=sa.text("status IN ('held', 'paid')"))
    op.drop_index("enrolments_held_by_expiry", table_name="enrolments", postgresql_where=sa.text("status = 'held'"))
    op.drop_index("enrolments_by_registration", table_name="enrolments")
    op.drop_index("enrolments_by_offering", table_name="enrolments")
    op.drop_table("enrolments")
    op.drop_table("school_oral_settings")
    op.drop_index("offerings_by_province", table_name="offerings")
    op.drop_table("offerings")
    op.drop_table("notices")
    op.drop_index("registrations_by_passport", table_name="registrations")
    op.drop_table("registrations")
    op.drop_table("refunds")
    op.drop_table("payments")
    op.drop_table("exam_sessions")
