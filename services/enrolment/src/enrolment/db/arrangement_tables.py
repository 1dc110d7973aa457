"""N13 at scale: the arrangement job and its frozen, ordered input. Which seat and ticket number
each paid subject gets is decided once, in one statement (the freeze), so the run is deterministic
and can be resumed batch by batch (migration aj01)."""

from __future__ import annotations

from sqlalchemy import CHAR, BigInteger, CheckConstraint, Column, DateTime, Index, Integer, Table, Text, text
from sqlalchemy.dialects.postgresql import UUID

from enrolment.db.tables import metadata

arrangement_jobs = Table(
    "arrangement_jobs",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("exam_session_id", UUID(as_uuid=True), nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("status", Text, nullable=False),
    CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="arrangement_status_valid"),
    Column("total", BigInteger, nullable=False, server_default=text("0")),
    Column("arranged", BigInteger, nullable=False, server_default=text("0")),
    # The freeze runs offering by offering in (campus, subject) order; it has queued every one up to this.
    Column("frozen_campus", CHAR(6)),
    Column("frozen_subject", Text),
    # Resumption point: every queue ordinal up to here is written (its batch committed with it).
    Column("done_through", BigInteger, nullable=False, server_default=text("0")),
    Column("error", Text),
    Column("lease_token", UUID(as_uuid=True)),
    Column("leased_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)
# One arrangement of a session at a time.
Index("arrangement_jobs_one_active", arrangement_jobs.c.exam_session_id, unique=True, postgresql_where=text("status IN ('queued', 'running')"))
Index("arrangement_jobs_by_session", arrangement_jobs.c.exam_session_id, arrangement_jobs.c.created_at)

# UNLOGGED: a million rows written once and read once, no WAL. A server crash empties it; the job
# then freezes again from what is not yet arranged, which gives the same seats.
arrangement_queue = Table(
    "arrangement_queue",
    metadata,
    Column("job_id", UUID(as_uuid=True), primary_key=True),
    Column("ordinal", BigInteger, primary_key=True),
    Column("enrolment_id", UUID(as_uuid=True), nullable=False),
    Column("room", Integer, nullable=False),
    Column("seat", Integer, nullable=False),
    Column("ticket_number", Text, nullable=False),
    # E10's ticket number has three digits of room and two of seat.
    CheckConstraint("room BETWEEN 1 AND 999 AND seat BETWEEN 1 AND 99", name="arrangement_room_and_seat_fit"),
    prefixes=["UNLOGGED"],
)
