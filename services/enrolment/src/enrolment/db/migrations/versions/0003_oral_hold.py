"""oral holds in two round trips: oral_contexts view and take_oral_hold()

The sign-up peak's hot path (口试报考) reads the offering and the candidate's context (the view) in
one statement, checks every rule in Python (`domain.rules`, unchanged), and then calls
take_oral_hold() once: it takes the registration's row lock, re-reads the context with a fresh
snapshot and goes on only if it is exactly what the rules were checked against (same fingerprint),
then inserts the hold and its outbox row and, last, takes the seat with the conditional UPDATE
(`remaining > 0`, SQLSTATE CE409 when none is left). The call is its own transaction and commits
as soon as it returns, so the offering's row lock lives no longer than with 0002's deferred trigger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Everything the oral rules (N9, N10) read about a candidate; its text form is the fingerprint,
    # so the active codes are sorted.
    op.execute(
        """
        CREATE VIEW oral_contexts AS
        SELECT r.registration_id, r.exam_session_id, r.passport_id, r.bound_at, r.province_code, r.school_code, r.campus_code,
               r.qualification_subjects, r.released_at,
               s.registration_opens_at, s.registration_closes_at, s.published_at, s.oral_exam_dates,
               o.allow_other_schools, o.allowed_campus_codes,
               (SELECT array_agg(e.subject_code ORDER BY e.subject_code) FROM enrolments e
                WHERE e.registration_id = r.registration_id AND e.seat_held) AS active_codes
        FROM registrations r
        JOIN exam_sessions s ON s.id = r.exam_session_id
        LEFT JOIN school_oral_settings o ON o.exam_session_id = r.exam_session_id AND o.school_code = r.school_code
        """
    )
    # VOLATILE (the default): every statement inside sees what committed before it started, so the
    # context read after the lock includes whatever the previous lock holder changed.
    op.execute(
        """
        CREATE FUNCTION take_oral_hold(
            p_passport_id text, p_fingerprint text, p_registration_id uuid, p_exam_session_id uuid, p_enrolment_id uuid,
            p_offering_id uuid, p_subject_code text, p_level integer, p_fee_fen integer, p_now timestamptz,
            p_expires_at timestamptz, p_limited boolean, p_event_id uuid, p_topic text, p_event_type text,
            p_envelope jsonb, p_headers jsonb
        ) RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM registrations WHERE registration_id = p_registration_id FOR UPDATE;
            IF (SELECT md5(v::text) FROM oral_contexts v WHERE v.passport_id = p_passport_id ORDER BY v.bound_at DESC LIMIT 1)
               IS DISTINCT FROM p_fingerprint THEN
                RETURN false;  -- changed since the rules were checked: the caller checks again
            END IF;
            INSERT INTO enrolments (id, registration_id, exam_session_id, offering_id, subject_code, kind, level, fee_fen,
                                    status, seat_held, method, enrolled_at, expires_at)
            VALUES (p_enrolment_id, p_registration_id, p_exam_session_id, p_offering_id, p_subject_code, 'oral', p_level, p_fee_fen,
                    'held', true, 'candidate', p_now, p_expires_at);
            INSERT INTO outbox (event_id, topic, key, event_type, envelope, headers)
            VALUES (p_event_id, p_topic, p_registration_id::text, p_event_type, p_envelope, p_headers);
            -- The seat, last: the call is its own transaction and commits as soon as it returns,
            -- so the offering's row lock lives only as long as the commit, as with seat_claims.
            IF p_limited THEN
                UPDATE offerings SET remaining = remaining - 1 WHERE id = p_offering_id AND remaining > 0;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'seats_full' USING ERRCODE = 'CE409';
                END IF;
            END IF;
            RETURN true;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION take_oral_hold(text, text, uuid, uuid, uuid, uuid, text, integer, integer, timestamptz, timestamptz, boolean, uuid, text, text, jsonb, jsonb)"
    )
    op.execute("DROP VIEW oral_contexts")
