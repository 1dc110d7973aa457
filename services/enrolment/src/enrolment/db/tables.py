"""Enrolment's own tables (SQLAlchemy Core). Registrations are a projection fed by eligibility's events."""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

# N1: an exam session (考次) and its windows. Times UTC.
exam_sessions = Table(
    "exam_sessions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("half", Integer, nullable=False),
    CheckConstraint("half IN (1, 2)", name="half_valid"),
    Column("registration_opens_at", DateTime(timezone=True), nullable=False),
    Column("registration_closes_at", DateTime(timezone=True), nullable=False),
    # Level 4 in the morning, level 6 in the afternoon of this day.
    Column("written_exam_date", Date),
    # Oral exam date per oral subject code, e.g. {"F": "2017-05-20", "S": "2017-05-21"}.
    Column("oral_exam_dates", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("written_tickets_opens_at", DateTime(timezone=True)),
    Column("written_tickets_closes_at", DateTime(timezone=True)),
    Column("oral_tickets_opens_at", DateTime(timezone=True)),
    Column("oral_tickets_closes_at", DateTime(timezone=True)),
    Column("published_at", DateTime(timezone=True)),
    Column("arranged_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# N2/N10/N11: a campus offering a subject: fee, capacity, its own registration time.
offerings = Table(
    "offerings",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("exam_session_id", UUID(as_uuid=True), ForeignKey("exam_sessions.id"), nullable=False),
    Column("subject_code", Text, nullable=False),
    Column("province_code", CHAR(2), nullable=False),
    Column("school_code", CHAR(5), nullable=False),
    Column("school_name", Text, nullable=False),
    Column("campus_code", CHAR(6), nullable=False),
    Column("campus_name", Text, nullable=False),
    Column("fee_fen", Integer),
    CheckConstraint("fee_fen IS NULL OR fee_fen >= 0", name="fee_not_negative"),
    # NULL capacity: not limited (written subjects usually). Otherwise remaining never leaves [0, capacity].
    Column("capacity", Integer),
    Column("remaining", Integer),
    Column("opens_at", DateTime(timezone=True)),
    Column("closes_at", DateTime(timezone=True)),
    Column("accepts_other_schools", Boolean, nullable=False, server_default=text("false")),
    CheckConstraint("(capacity IS NULL) = (remaining IS NULL)", name="capacity_and_remaining"),
    CheckConstraint("remaining IS NULL OR (remaining >= 0 AND remaining <= capacity)", name="remaining_in_range"),
    UniqueConstraint("exam_session_id", "subject_code", "campus_code", name="one_offering_per_campus_subject"),
)
Index("offerings_by_province", offerings.c.exam_session_id, offerings.c.subject_code, offerings.c.province_code)

# N10: a school's oral settings: may its candidates take orals at other schools' campuses, and which.
school_oral_settings = Table(
    "school_oral_settings",
    metadata,
    Column("exam_session_id", UUID(as_uuid=True), ForeignKey("exam_sessions.id"), primary_key=True),
    Column("school_code", CHAR(5), primary_key=True),
    Column("allow_other_schools", Boolean, nullable=False, server_default=text("false")),
    # NULL: any campus of the province that accepts other schools' candidates.
    Column("allowed_campus_codes", ARRAY(Text)),
)

# N3/N12: 报考须知 (registration_notes), 省通告 (province), 学校通告 (school).
notices = Table(
    "notices",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("exam_session_id", UUID(as_uuid=True), ForeignKey("exam_sessions.id"), nullable=False),
    Column("scope", Text, nullable=False),
    CheckConstraint("scope IN ('registration_notes', 'province', 'school')", name="scope_valid"),
    Column("province_code", CHAR(2)),
    Column("school_code", CHAR(5)),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("position", Integer, nullable=False, server_default=text("0")),
)

# Projection of eligibility's RegistrationBound (+ QualificationGranted, Rebound, Released).
# The row is the registration aggregate's lock: every writer takes it FOR UPDATE first.
registrations = Table(
    "registrations",
    metadata,
    Column("registration_id", UUID(as_uuid=True), primary_key=True),
    Column("exam_session_id", UUID(as_uuid=True), nullable=False),
    Column("passport_id", Text, nullable=False),
    Column("snapshot", JSONB, nullable=False),
    Column("province_code", Text, nullable=False),
    Column("school_code", Text, nullable=False),
    Column("campus_code", Text, nullable=False),
    Column("qualification_subjects", ARRAY(Text), nullable=False),
    Column("bound_at", DateTime(timezone=True), nullable=False),
    Column("notices_acknowledged_at", DateTime(timezone=True)),
    Column("released_at", DateTime(timezone=True)),
)
Index("registrations_by_passport", registrations.c.passport_id, registrations.c.bound_at)

# Subjects a candidate enrolled in. status: held (unpaid) → paid | cancelled | expired.
# seat_held is true exactly while the row owns one unit of its offering's capacity, that is while
# it is active (held or paid): the check below makes the two the same, and queries use seat_held.
enrolments = Table(
    "enrolments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("registration_id", UUID(as_uuid=True), ForeignKey("registrations.registration_id"), nullable=False),
    Column("exam_session_id", UUID(as_uuid=True), nullable=False),
    Column("offering_id", UUID(as_uuid=True), ForeignKey("offerings.id"), nullable=False),
    Column("subject_code", Text, nullable=False),
    Column("kind", Text, nullable=False),
    CheckConstraint("kind IN ('written', 'oral')", name="kind_valid"),
    Column("level", Integer, nullable=False),
    Column("fee_fen", Integer, nullable=False),
    Column("status", Text, nullable=False),
    CheckConstraint("status IN ('held', 'paid', 'cancelled', 'expired')", name="status_valid"),
    Column("seat_held", Boolean, nullable=False),
    Column("method", Text, nullable=False, server_default=text("'candidate'")),
    CheckConstraint("method IN ('candidate', 'school')", name="method_valid"),
    Column("locked", Boolean, nullable=False, server_default=text("false")),
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("paid_at", DateTime(timezone=True)),
    Column("order_id", UUID(as_uuid=True)),
    Column("ended_at", DateTime(timezone=True)),
    # N13 arrangement (编排).
    Column("room", Integer),
    Column("seat", Integer),
    Column("ticket_number", Text, unique=True),
    Column("arranged_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('held', 'paid') = seat_held", name="seat_held_while_active"),
)
# N5 (one written per level) and one oral per level, enforced by the database under any concurrency.
Index(
    "one_active_per_level",
    enrolments.c.registration_id,
    enrolments.c.kind,
    enrolments.c.level,
    unique=True,
    postgresql_where=text("status IN ('held', 'paid')"),
)
Index("enrolments_held_by_expiry", enrolments.c.expires_at, postgresql_where=text("status = 'held'"))
Index("enrolments_by_registration", enrolments.c.registration_id)
Index("enrolments_by_offering", enrolments.c.offering_id)

# A limited offering's `remaining` (and an enrolment's seat_held) move only through the seat
# functions of migrations 0006, 0007 and sh01 (candidate_context, take_seats, hold_seats_batch and
# hold_seats, return_seat_to_pool, resize_offering), called only by `enrolment.service.seats` and
# `enrolment.db.hold_batches` (the batched hold).

# N14 候补: first in line (lowest id) gets the next seat freed at the offering.
waitlist = Table(
    "waitlist",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("offering_id", UUID(as_uuid=True), ForeignKey("offerings.id"), nullable=False),
    Column("registration_id", UUID(as_uuid=True), ForeignKey("registrations.registration_id"), nullable=False),
    Column("status", Text, nullable=False),
    CheckConstraint("status IN ('waiting', 'promoted', 'left')", name="waitlist_status_valid"),
    Column("enrolment_id", UUID(as_uuid=True)),
    Column("joined_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
)
Index(
    "one_waiting_per_offering",
    waitlist.c.offering_id,
    waitlist.c.registration_id,
    unique=True,
    postgresql_where=text("status = 'waiting'"),
)

# Y4: payments seen, and refunds this service asked for (and their completion).
payments = Table(
    "payments",
    metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("registration_id", UUID(as_uuid=True), nullable=False),
    Column("enrolment_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    Column("amount_fen", Integer, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

refunds = Table(
    "refunds",
    metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("registration_id", UUID(as_uuid=True), nullable=False),
    Column("enrolment_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    Column("amount_fen", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    Column("completed_amount_fen", Integer),
    Column("failed_at", DateTime(timezone=True)),  # payment gave up (RefundFailed): support takes over
)

# The portal's home page: 最新动态 (news) and 通知公告 (notices), written by operations, shown to
# everyone from publish_at on. Not tied to an exam session: the home page outlives them.
news_items = Table(
    "news_items",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", Text, nullable=False),
    CheckConstraint("kind IN ('news', 'notice', 'province')", name="news_kind_valid"),
    Column("province_code", CHAR(2)),  # 省通告 (kind 'province'): written by ops or that province's administrator
    CheckConstraint("(kind = 'province') = (province_code IS NOT NULL)", name="news_province_only_for_province_notices"),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("publish_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("news_by_publication", news_items.c.publish_at)

# Who wrote, changed or withdrew which item, and what it said then (staff act: audited).
news_audit = Table(
    "news_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("news_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("action", Text, nullable=False),
    CheckConstraint("action IN ('created', 'updated', 'deleted')", name="news_action_valid"),
    Column("actor_passport_id", Text, nullable=False),
    Column("item", JSONB, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
