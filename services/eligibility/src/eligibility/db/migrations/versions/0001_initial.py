"""registry, registrations, reviews, projections

Revision ID: 0001
Revises:
Create Date: 2026-11-27
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
        "accounts",
        sa.Column("passport_id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("passport_id"),
    )
    op.create_table(
        "agreement_acceptances",
        sa.Column("passport_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("passport_id", "version"),
    )
    op.create_table(
        "cet4_scores",
        sa.Column("ticket_number", sa.Text(), nullable=False),
        sa.Column("id_number", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("half", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("score BETWEEN 0 AND 710", name="cet4_scores_score_range"),
        sa.PrimaryKeyConstraint("ticket_number"),
    )
    op.create_table(
        "exam_sessions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("registration_opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registration_closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "provinces",
        sa.Column("code", sa.CHAR(length=2), nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "rebind_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registration_id", sa.UUID(), nullable=False),
        sa.Column("old_passport_id", sa.Text(), nullable=False),
        sa.Column("new_passport_id", sa.Text(), nullable=False),
        sa.Column("actor_passport_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rebound_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_rebind_audit_registration_id"), "rebind_audit", ["registration_id"], unique=False)
    op.create_table(
        "registration_subjects",
        sa.Column("enrolment_id", sa.UUID(), nullable=False),
        sa.Column("registration_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("enrolment_id"),
    )
    op.create_index(op.f("ix_registration_subjects_registration_id"), "registration_subjects", ["registration_id"], unique=False)
    op.create_table(
        "schools",
        sa.Column("code", sa.CHAR(length=5), nullable=False),
        sa.Column("province_code", sa.CHAR(length=2), nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "campuses",
        sa.Column("code", sa.CHAR(length=6), nullable=False),
        sa.Column("school_code", sa.CHAR(length=5), nullable=False),
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.Column("offers_cet6", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_code"],
            ["schools.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "students",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("id_type", sa.Text(), nullable=False),
        sa.Column("id_number", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("gender", sa.Text(), nullable=False),
        sa.Column("school_code", sa.CHAR(length=5), nullable=False),
        sa.Column("campus_code", sa.CHAR(length=6), nullable=False),
        sa.Column("education_level", sa.Text(), server_default="", nullable=False),
        sa.Column("program_years", sa.Text(), server_default="", nullable=False),
        sa.Column("entry_year", sa.Text(), server_default="", nullable=False),
        sa.Column("grade", sa.Text(), server_default="", nullable=False),
        sa.Column("department", sa.Text(), server_default="", nullable=False),
        sa.Column("major", sa.Text(), server_default="", nullable=False),
        sa.Column("class_name", sa.Text(), server_default="", nullable=False),
        sa.Column("student_number", sa.Text(), server_default="", nullable=False),
        sa.Column("remarks", sa.Text(), server_default="", nullable=False),
        sa.Column("qualification_subjects", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("cet6_barred", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["campus_code"],
            ["campuses.code"],
        ),
        sa.ForeignKeyConstraint(
            ["school_code"],
            ["schools.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("id_type", "id_number", name="students_identity"),
    )
    op.create_index("students_school", "students", ["school_code"], unique=False)
    op.create_table(
        "cet6_reviews",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("passport_id", sa.Text(), nullable=True),
        sa.Column("student_id", sa.UUID(), nullable=False),
        sa.Column("school_code", sa.CHAR(length=5), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("id_type", sa.Text(), nullable=False),
        sa.Column("id_number", sa.Text(), nullable=False),
        sa.Column("ticket_number", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submissions", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="cet6_reviews_status"),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("passport_id"),
    )
    op.create_index(op.f("ix_cet6_reviews_school_code"), "cet6_reviews", ["school_code"], unique=False)
    op.create_index(op.f("ix_cet6_reviews_student_id"), "cet6_reviews", ["student_id"], unique=False)
    op.create_table(
        "qualification_grants",
        sa.Column("student_id", sa.UUID(), nullable=False),
        sa.Column("subject_code", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("student_id", "subject_code"),
    )
    op.create_table(
        "registrations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("exam_session_id", sa.UUID(), nullable=False),
        sa.Column("passport_id", sa.Text(), nullable=False),
        sa.Column("student_id", sa.UUID(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("qualification_subjects", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exam_session_id", "passport_id", name="registrations_one_candidate_per_account"),
        sa.UniqueConstraint("exam_session_id", "student_id", name="registrations_one_account_per_candidate"),
    )
    op.create_index("registrations_saved_at", "registrations", ["saved_at"], unique=False)
    op.create_index("registrations_student", "registrations", ["student_id"], unique=False)


def downgrade() -> None:
    op.drop_index("registrations_student", table_name="registrations")
    op.drop_index("registrations_saved_at", table_name="registrations")
    op.drop_table("registrations")
    op.drop_table("qualification_grants")
    op.drop_index(op.f("ix_cet6_reviews_student_id"), table_name="cet6_reviews")
    op.drop_index(op.f("ix_cet6_reviews_school_code"), table_name="cet6_reviews")
    op.drop_table("cet6_reviews")
    op.drop_index("students_school", table_name="students")
    op.drop_table("students")
    op.drop_table("campuses")
    op.drop_table("schools")
    op.drop_index(op.f("ix_registration_subjects_registration_id"), table_name="registration_subjects")
    op.drop_table("registration_subjects")
    op.drop_index(op.f("ix_rebind_audit_registration_id"), table_name="rebind_audit")
    op.drop_table("rebind_audit")
    op.drop_table("provinces")
    op.drop_table("exam_sessions")
    op.drop_table("cet4_scores")
    op.drop_table("agreement_acceptances")
    op.drop_table("accounts")
