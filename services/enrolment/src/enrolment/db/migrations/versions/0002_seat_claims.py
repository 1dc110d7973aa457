"""seats taken at commit: seat_claims and its deferred constraint trigger

A candidate's hold takes its seat inside COMMIT (a deferred constraint trigger running the same
conditional UPDATE), so the offering's row lock, the one every grab of a campus queues on, is held
only for the commit itself and never across a round trip to a busy api process.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seat_claims",
        sa.Column("enrolment_id", sa.UUID(), sa.ForeignKey("enrolments.id"), primary_key=True),
        sa.Column("offering_id", sa.UUID(), sa.ForeignKey("offerings.id"), nullable=False),
    )
    op.execute(
        """
        CREATE FUNCTION take_claimed_seat() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE offerings SET remaining = remaining - 1 WHERE id = NEW.offering_id AND remaining > 0;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'seats_full' USING ERRCODE = 'CE409';
            END IF;
            DELETE FROM seat_claims WHERE enrolment_id = NEW.enrolment_id;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER take_claimed_seat AFTER INSERT ON seat_claims
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION take_claimed_seat()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER take_claimed_seat ON seat_claims")
    op.execute("DROP FUNCTION take_claimed_seat()")
    op.drop_table("seat_claims")
