"""Eligibility's own tables. Projections of other services' data are fed by events only (O4)."""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

# -- the student registry (学籍库, E13) ---------------------------------------------------------

provinces = Table(
    "provinces",
    metadata,
    Column("code", CHAR(2), primary_key=True),
    Column("name", Text, nullable=False, server_default=""),
)

schools = Table(
    "schools",
    metadata,
    Column("code", CHAR(5), primary_key=True),
    Column("province_code", CHAR(2), ForeignKey("provinces.code"), nullable=False),
    Column("name", Text, nullable=False, server_default=""),
)

campuses = Table(
    "campuses",
    metadata,
    Column("code", CHAR(6), primary_key=True),
    Column("school_code", CHAR(5), ForeignKey("schools.code"), nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    # E10: the CET6 review button shows only when the written campus offers CET6.
    Column("offers_cet6", Boolean, nullable=False, server_default=text("true")),
)

students = Table(
    "students",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("id_type", Text, nullable=False),
    Column("id_number", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("gender", Text, nullable=False),
    Column("school_code", CHAR(5), ForeignKey("schools.code"), nullable=False),
    Column("campus_code", CHAR(6), ForeignKey("campuses.code"), nullable=False),
    Column("education_level", Text, nullable=False, server_default=""),
    Column("program_years", Text, nullable=False, server_default=""),
    Column("entry_year", Text, nullable=False, server_default=""),
    Column("grade", Text, nullable=False, server_default=""),
    Column("department", Text, nullable=False, server_default=""),
    Column("major", Text, nullable=False, server_default=""),
    Column("class_name", Text, nullable=False, server_default=""),
    Column("student_number", Text, nullable=False, server_default=""),
    Column("remarks", Text, nullable=False, server_default=""),
    Column("qualification_subjects", ARRAY(Text), nullable=False),
    Column("cet6_barred", Boolean, nullable=False, server_default=text("false")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("id_type", "id_number", name="students_identity"),
)
Index("students_school", students.c.school_code)

# Qualification added by an approved CET6 review; kept apart so a registry re-import keeps it.
qualification_grants = Table(
    "qualification_grants",
    metadata,
    Column("student_id", UUID(as_uuid=True), ForeignKey("students.id", ondelete="CASCADE"), primary_key=True),
    Column("subject_code", Text, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
)

cet4_scores = Table(
    "cet4_scores",
    metadata,
    Column("ticket_number", Text, primary_key=True),
    Column("id_number", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("score", SmallInteger, nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("half", SmallInteger, nullable=False),
    CheckConstraint("score BETWEEN 0 AND 710", name="cet4_scores_score_range"),
)

# -- the candidate's way through (E2, E6, E7) ---------------------------------------------------

agreement_acceptances = Table(
    "agreement_acceptances",
    metadata,
    Column("passport_id", Text, primary_key=True),
    Column("version", Text, primary_key=True),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
)

registrations = Table(
    "registrations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("exam_session_id", UUID(as_uuid=True), nullable=False),
    Column("passport_id", Text, nullable=False),
    Column("student_id", UUID(as_uuid=True), ForeignKey("students.id"), nullable=False),
    # E6: what the candidate confirmed; registry changes after saving never touch it.
    Column("snapshot", JSONB, nullable=False),
    # The snapshot's qualification subjects plus what a CET6 review granted since.
    Column("qualification_subjects", ARRAY(Text), nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    # E7, the exactly-one-winner guard: one candidate per account and one account per candidate
    # in each exam session, enforced by the database, so concurrent saves cannot both win.
    UniqueConstraint("exam_session_id", "passport_id", name="registrations_one_candidate_per_account"),
    UniqueConstraint("exam_session_id", "student_id", name="registrations_one_account_per_candidate"),
)
Index("registrations_saved_at", registrations.c.saved_at)
Index("registrations_student", registrations.c.student_id)

# E12: every rebinding by support, who, when, from, to and why.
rebind_audit = Table(
    "rebind_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("registration_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("old_passport_id", Text, nullable=False),
    Column("new_passport_id", Text, nullable=False),
    Column("actor_passport_id", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("rebound_at", DateTime(timezone=True), nullable=False),
)

# -- CET6 review (E10) --------------------------------------------------------------------------

cet6_reviews = Table(
    "cet6_reviews",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # One application per passport account; a teacher's application for a candidate without a
    # bound account has none.
    Column("passport_id", Text, unique=True),
    Column("student_id", UUID(as_uuid=True), ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("school_code", CHAR(5), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("id_type", Text, nullable=False),
    Column("id_number", Text, nullable=False),
    Column("ticket_number", Text),
    Column("status", Text, nullable=False),
    Column("rule", Text, nullable=False),  # rule1, rule2, teacher
    Column("submitted_by", Text, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("submissions", Integer, nullable=False, server_default=text("1")),
    Column("decided_by", Text),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_note", Text),
    CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="cet6_reviews_status"),
)

# -- projections fed by events ------------------------------------------------------------------

accounts = Table(
    "accounts",
    metadata,
    Column("passport_id", Text, primary_key=True),
    Column("email", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

exam_sessions = Table(
    "exam_sessions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("registration_opens_at", DateTime(timezone=True), nullable=False),
    Column("registration_closes_at", DateTime(timezone=True), nullable=False),
)
