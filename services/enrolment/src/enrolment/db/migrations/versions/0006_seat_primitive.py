"""one seat primitive: candidate_context(), take_seats(), hold_seats(), return_seat_to_pool(), resize_offering()

Replaces 0002's deferred claim trigger (and its seat_claims table) and 0003's `oral_contexts` view
and `take_oral_hold()`. Every write of `offerings.remaining` is one of the seat functions below,
and only `enrolment.service.seats` calls them:
- candidate_context(): THE read of a candidate's context (registration, the session's windows, the
  school's oral setting, the active subjects) with its fingerprint; Python maps the row into
  `domain.context.CandidateContext`, and hold_seats() re-reads it under the registration's lock;
- take_seats(): the conditional decrement (`remaining >= n`), in offering id order, SQLSTATE CE409
  when a seat is missing;
- hold_seats(): the registration's row lock, the re-check (same fingerprint, else false: the
  caller checks the rules again), the enrolment and outbox rows, then the seats, last. Called on
  its own (autocommit) a hold is one statement and one commit, so the offering's row lock lives
  only as long as that commit;
- return_seat_to_pool() and resize_offering(): a freed seat back to the pool, capacity changed live.

Revision ID: 0006
Revises: rv01
Create Date: 2026-12-02
"""

from alembic import op

revision = "0006"
down_revision = "rv01"
branch_labels = None
depends_on = None

_CONTEXT = """
CREATE FUNCTION candidate_context(p_passport_id text, p_registration_id uuid)
RETURNS TABLE (
    registration_id uuid, exam_session_id uuid, passport_id text, province_code text, school_code text, campus_code text,
    qualification_subjects text[], notices_acknowledged_at timestamptz, released_at timestamptz,
    registration_opens_at timestamptz, registration_closes_at timestamptz, published_at timestamptz, oral_exam_dates jsonb,
    allow_other_schools boolean, allowed_campus_codes text[], active_codes text[], fingerprint text
) LANGUAGE sql STABLE AS $$
    SELECT c.*, md5(c::text) FROM (
        SELECT r.registration_id, r.exam_session_id, r.passport_id, r.province_code, r.school_code, r.campus_code,
               r.qualification_subjects, r.notices_acknowledged_at, r.released_at,
               s.registration_opens_at, s.registration_closes_at, s.published_at, s.oral_exam_dates,
               o.allow_other_schools, o.allowed_campus_codes,
               coalesce((SELECT array_agg(e.subject_code ORDER BY e.subject_code) FROM enrolments e
                         WHERE e.registration_id = r.registration_id AND e.seat_held), '{}') AS active_codes
        FROM registrations r
        JOIN exam_sessions s ON s.id = r.exam_session_id
        LEFT JOIN school_oral_settings o ON o.exam_session_id = r.exam_session_id AND o.school_code = r.school_code
        WHERE r.registration_id = coalesce(
            p_registration_id,
            (SELECT x.registration_id FROM registrations x WHERE x.passport_id = p_passport_id ORDER BY x.bound_at DESC LIMIT 1)
        )
    ) c
$$
"""

_TAKE = """
CREATE FUNCTION take_seats(p_offering_ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    claim record;
BEGIN
    -- One offering id order for every caller: two units taking [1, 2] and [2, 1] never wait in a cycle.
    FOR claim IN
        SELECT o.id, count(*) AS seats FROM unnest(p_offering_ids) AS t(id) JOIN offerings o ON o.id = t.id
        WHERE o.capacity IS NOT NULL GROUP BY o.id ORDER BY o.id
    LOOP
        UPDATE offerings SET remaining = remaining - claim.seats WHERE id = claim.id AND remaining >= claim.seats;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'seats_full' USING ERRCODE = 'CE409';
        END IF;
    END LOOP;
END
$$
"""

# VOLATILE (the default): every statement inside sees what committed before it started, so the
# context read after the lock includes whatever the previous lock holder changed.
_HOLD = """
CREATE FUNCTION hold_seats(p_registration_id uuid, p_fingerprint text, p_enrolments jsonb, p_outbox jsonb, p_from_pool boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM registrations WHERE registration_id = p_registration_id FOR UPDATE;
    IF (SELECT c.fingerprint FROM candidate_context(NULL, p_registration_id) c) IS DISTINCT FROM p_fingerprint THEN
        RETURN false;  -- changed since the rules were checked: the caller reads and checks again
    END IF;
    INSERT INTO enrolments (id, registration_id, exam_session_id, offering_id, subject_code, kind, level, fee_fen,
                            status, seat_held, method, enrolled_at, expires_at)
    SELECT id, registration_id, exam_session_id, offering_id, subject_code, kind, level, fee_fen,
           'held', true, method, enrolled_at, expires_at
    FROM jsonb_populate_recordset(NULL::enrolments, p_enrolments);
    INSERT INTO outbox (event_id, topic, key, event_type, envelope, headers)
    SELECT event_id, topic, key, event_type, envelope, headers FROM jsonb_populate_recordset(NULL::outbox, p_outbox);
    -- The seats, last (a waiting list's promotion receives the seat its predecessor just freed).
    IF p_from_pool THEN
        PERFORM take_seats(ARRAY(SELECT (e ->> 'offering_id')::uuid FROM jsonb_array_elements(p_enrolments) e));
    END IF;
    RETURN true;
END
$$
"""

_RETURN = """
CREATE FUNCTION return_seat_to_pool(p_offering_id uuid) RETURNS void LANGUAGE sql AS $$
    UPDATE offerings SET remaining = remaining + 1 WHERE id = p_offering_id AND remaining < capacity
$$
"""

_RESIZE = """
CREATE FUNCTION resize_offering(p_offering_id uuid, p_capacity integer)
RETURNS TABLE (capacity integer, remaining integer) LANGUAGE sql AS $$
    UPDATE offerings o SET capacity = p_capacity, remaining = o.remaining + (p_capacity - o.capacity)
    WHERE o.id = p_offering_id AND o.capacity IS NOT NULL AND o.capacity - o.remaining <= p_capacity
    RETURNING o.capacity, o.remaining
$$
"""


def upgrade() -> None:
    op.execute(
        "DROP FUNCTION take_oral_hold(text, text, uuid, uuid, uuid, uuid, text, integer, integer, timestamptz, timestamptz, boolean, uuid, text, text, jsonb, jsonb)"
    )
    op.execute("DROP VIEW oral_contexts")
    op.execute("DROP TRIGGER take_claimed_seat ON seat_claims")
    op.execute("DROP FUNCTION take_claimed_seat()")
    op.drop_table("seat_claims")
    for statement in (_CONTEXT, _TAKE, _HOLD, _RETURN, _RESIZE):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("0006 replaces the seat functions of 0002 and 0003; restore from a backup to go back")
