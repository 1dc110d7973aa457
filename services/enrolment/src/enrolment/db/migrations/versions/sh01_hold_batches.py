"""hold_seats_batch(): the concurrent holds of one campus in one statement and one commit

The api gathers the holds that arrive while one is in flight (`db.hold_batches`, group commit)
and sends them as one statement, its own transaction: one round trip and one commit flush for
the batch instead of one per hold. Each hold gets its own outcome, in the order of the batch:
- 'changed': its registration's context is not the one its rules were checked against (or the
  registration has an earlier hold in this batch): nothing written, the caller reads and checks again;
- 'full': a seat of one of its offerings is missing once the holds before it took theirs;
- 'held': its enrolments and outbox rows are written and its seats taken.
Locks in one order for every caller: the registrations (id order), then the offerings (id order,
read FOR UPDATE; take_seats() is still the only place `remaining` goes down). `hold_seats()` (the waiting
list's promotion inside its unit of work) is this function with one hold.

Revision ID: sh01
Revises: aj01
Create Date: 2026-12-02
"""

from alembic import op

revision = "sh01"
down_revision = "aj01"
branch_labels = None
depends_on = None

_BATCH = """
CREATE FUNCTION hold_seats_batch(p_holds jsonb) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    outcomes text[] := '{}';
    left_seats jsonb := '{}';   -- offering id -> seats still free for this batch (limited offerings only)
    seen uuid[] := '{}';
    winners integer[] := '{}';
    hold record;
    need record;
    fits boolean;
BEGIN
    PERFORM 1 FROM registrations
    WHERE registration_id IN (SELECT DISTINCT (h ->> 'registration_id')::uuid FROM jsonb_array_elements(p_holds) h)
    ORDER BY registration_id FOR UPDATE;
    SELECT coalesce(jsonb_object_agg(o.id::text, o.remaining), '{}') INTO left_seats FROM (
        SELECT id, remaining FROM offerings
        WHERE capacity IS NOT NULL AND id IN (
            SELECT DISTINCT (e ->> 'offering_id')::uuid FROM jsonb_array_elements(p_holds) h, jsonb_array_elements(h -> 'enrolments') e
        )
        ORDER BY id FOR UPDATE
    ) o;
    FOR hold IN
        SELECT h.i::integer AS i, h.value AS v, c.fingerprint IS NOT DISTINCT FROM h.value ->> 'fingerprint' AS same
        FROM jsonb_array_elements(p_holds) WITH ORDINALITY h(value, i)
        LEFT JOIN LATERAL candidate_context(NULL, (h.value ->> 'registration_id')::uuid) c ON true
        ORDER BY h.i
    LOOP
        IF NOT hold.same OR (hold.v ->> 'registration_id')::uuid = ANY(seen) THEN
            outcomes := outcomes || 'changed'::text;
            CONTINUE;
        END IF;
        seen := seen || (hold.v ->> 'registration_id')::uuid;
        fits := true;
        IF (hold.v ->> 'from_pool')::boolean THEN
            FOR need IN
                SELECT e ->> 'offering_id' AS id, count(*)::integer AS seats FROM jsonb_array_elements(hold.v -> 'enrolments') e
                WHERE left_seats ? (e ->> 'offering_id') GROUP BY 1
            LOOP
                fits := fits AND (left_seats ->> need.id)::integer >= need.seats;
            END LOOP;
            IF fits THEN
                FOR need IN
                    SELECT e ->> 'offering_id' AS id, count(*)::integer AS seats FROM jsonb_array_elements(hold.v -> 'enrolments') e
                    WHERE left_seats ? (e ->> 'offering_id') GROUP BY 1
                LOOP
                    left_seats := jsonb_set(left_seats, ARRAY[need.id], to_jsonb((left_seats ->> need.id)::integer - need.seats));
                END LOOP;
            END IF;
        END IF;
        IF fits THEN
            outcomes := outcomes || 'held'::text;
            winners := winners || hold.i;
        ELSE
            outcomes := outcomes || 'full'::text;
        END IF;
    END LOOP;
    IF cardinality(winners) = 0 THEN
        RETURN outcomes;
    END IF;
    INSERT INTO enrolments (id, registration_id, exam_session_id, offering_id, subject_code, kind, level, fee_fen,
                            status, seat_held, method, enrolled_at, expires_at)
    SELECT r.id, r.registration_id, r.exam_session_id, r.offering_id, r.subject_code, r.kind, r.level, r.fee_fen,
           'held', true, r.method, r.enrolled_at, r.expires_at
    FROM jsonb_array_elements(p_holds) WITH ORDINALITY h(value, i), jsonb_populate_recordset(NULL::enrolments, h.value -> 'enrolments') r
    WHERE h.i = ANY(winners);
    INSERT INTO outbox (event_id, topic, key, event_type, envelope, headers)
    SELECT r.event_id, r.topic, r.key, r.event_type, r.envelope, r.headers
    FROM jsonb_array_elements(p_holds) WITH ORDINALITY h(value, i), jsonb_populate_recordset(NULL::outbox, h.value -> 'outbox') r
    WHERE h.i = ANY(winners);
    -- The seats: exactly what the loop counted as free under the offerings' locks, so take_seats()
    -- cannot refuse them here.
    PERFORM take_seats(ARRAY(
        SELECT (e ->> 'offering_id')::uuid
        FROM jsonb_array_elements(p_holds) WITH ORDINALITY h(value, i), jsonb_array_elements(h.value -> 'enrolments') e
        WHERE h.i = ANY(winners) AND (h.value ->> 'from_pool')::boolean
    ));
    RETURN outcomes;
END
$$
"""

_SINGLE = """
CREATE OR REPLACE FUNCTION hold_seats(p_registration_id uuid, p_fingerprint text, p_enrolments jsonb, p_outbox jsonb, p_from_pool boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    outcome text;
BEGIN
    outcome := (hold_seats_batch(jsonb_build_array(jsonb_build_object(
        'registration_id', p_registration_id, 'fingerprint', p_fingerprint,
        'enrolments', p_enrolments, 'outbox', p_outbox, 'from_pool', p_from_pool))))[1];
    IF outcome = 'full' THEN
        RAISE EXCEPTION 'seats_full' USING ERRCODE = 'CE409';
    END IF;
    RETURN outcome = 'held';
END
$$
"""


def upgrade() -> None:
    op.execute(_BATCH)
    op.execute(_SINGLE)


def downgrade() -> None:
    raise NotImplementedError("restore from a backup to go back")
