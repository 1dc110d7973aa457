"""seats_back: a seat returned to the pool or capacity changed NOTIFYs the replicas

`return_seat_to_pool()` and `resize_offering()` of 0006, redefined to NOTIFY `seats_back` with
the offering id in the same transaction (delivered at commit, once the seat is visible), so the
replicas' remembered "full" (enrolment.service.full_campuses) is forgotten exactly when a seat
comes back.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION return_seat_to_pool(p_offering_id uuid) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE offerings SET remaining = remaining + 1 WHERE id = p_offering_id AND remaining < capacity;
            IF FOUND THEN
                PERFORM pg_notify('seats_back', p_offering_id::text);
            END IF;
        END
        $$
        """
    )
    op.execute("DROP FUNCTION resize_offering(uuid, integer)")
    op.execute(
        """
        CREATE FUNCTION resize_offering(p_offering_id uuid, p_capacity integer)
        RETURNS TABLE (new_capacity integer, new_remaining integer) LANGUAGE plpgsql AS $$
        BEGIN
            RETURN QUERY
            UPDATE offerings o SET capacity = p_capacity, remaining = o.remaining + (p_capacity - o.capacity)
            WHERE o.id = p_offering_id AND o.capacity IS NOT NULL AND o.capacity - o.remaining <= p_capacity
            RETURNING o.capacity, o.remaining;
            IF FOUND THEN
                PERFORM pg_notify('seats_back', p_offering_id::text);
            END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    raise NotImplementedError("restore from a backup to go back")
